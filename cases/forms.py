"""Forms that refuse bad input with sentences a person understands, and keep what was typed.

The choices (event types, outcomes, departments) come from the procedure's published rule pack;
the rules' own refusals (CaseRefused) are mapped back onto the form by `show_refusal`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

import phonenumbers
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rules.engine.inputs import MAX_YEAR, MIN_YEAR, normalise_department
from rules.engine.reader_texts import code_words
from rules.models import EventType, PackVersion, RulePack
from rules.services import today

from . import procedures
from .actions import CaseRefused
from .models import Case, CaseEvent, NewElement, Organisation

PHONE_REGION = "FR"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
DATE_ERRORS = {
    "invalid": _("This date does not exist. Type it as day/month/year, for example 02/04/2026."),
    "required": _("Give the date."),
}


def check_year(value: dt.date) -> None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            _("The year must be between %(first)s and %(last)s."),
            code="year_out_of_range",
            params={"first": MIN_YEAR, "last": MAX_YEAR},
        )


class DateInput(forms.DateInput):
    """The browser's date picker; it always sends YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        attrs = {"min": f"{MIN_YEAR}-01-01", "max": f"{MAX_YEAR}-12-31", **(attrs or {})}
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=DateInput(),
        input_formats=DATE_INPUT_FORMATS,
        validators=[check_year],
        error_messages=DATE_ERRORS,
    )


def show_refusal(form: forms.BaseForm, refused: CaseRefused) -> None:
    """Put the rules' refusal on the form: on the field it names, else above the form."""
    form.add_error(None, gettext("The procedure's rules do not accept this; nothing was saved."))
    for field, messages in refused.errors.items():
        form.add_error(field if field in form.fields else None, list(messages))


def person_name(user: AbstractBaseUser) -> str:
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return str(full or user.get_username())


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person_name(obj)


class ProcedureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return procedures.procedure_name(obj)


class CaseForm(forms.ModelForm):
    """An applicant's file: who they are, how to reach them, which procedure applies."""

    class Meta:
        model = Case
        fields = [
            "applicant_name",
            "reference",
            "procedure",
            "department",
            "previous_reexaminations",
            "preferred_language",
            "phone",
            "sms_consent",
            "email",
            "email_consent",
            "assigned_to",
            "state",
        ]
        labels = {
            "phone": _("Phone"),
            "previous_reexaminations": _("Previous reexaminations finally rejected"),
        }
        help_texts = {
            "reference": _("Your organisation's reference for this file."),
            "department": _("Code of the department where the applicant lives: 54, 2A, 971…"),
            "phone": _("A French number (06 12 34 56 78) or an international one (+44 …)."),
            "previous_reexaminations": _("0 if this is the first reexamination request."),
        }
        field_classes = {"assigned_to": MemberChoiceField, "procedure": ProcedureChoiceField}

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        user_model = get_user_model()
        assigned_to = cast(forms.ModelChoiceField, self.fields["assigned_to"])
        assigned_to.queryset = user_model._default_manager.filter(
            membership__organisation=organisation, is_active=True
        ).order_by("first_name", "last_name", "username")
        procedure = cast(forms.ModelChoiceField, self.fields["procedure"])
        procedure.queryset = (
            RulePack.objects.filter(versions__status=PackVersion.Status.PUBLISHED)
            .distinct()
            .order_by("name")
        )
        procedure.empty_label = None
        self.fields["department"].widget.attrs.update(
            {"autocomplete": "off", "inputmode": "text", "size": 4, "maxlength": 3}
        )
        self.fields["phone"].widget.attrs.update({"type": "tel", "autocomplete": "off"})
        cast(forms.TextInput, self.fields["phone"].widget).input_type = "tel"
        self.fields["email"].widget.attrs.update({"autocomplete": "off"})
        self.fields["previous_reexaminations"].widget.attrs.update({"min": 0, "max": 1000})
        if self.instance.pk is None:
            # A new file is open; closing one is a change made later.
            del self.fields["state"]

    def clean_reference(self) -> str:
        reference: str = self.cleaned_data["reference"].strip()
        taken = Case.objects.filter(organisation=self.organisation, reference=reference)
        if self.instance.pk is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(
                _("Another file of your organisation already has the reference %(reference)s."),
                code="reference_taken",
                params={"reference": reference},
            )
        return reference

    def clean_phone(self) -> str:
        raw: str = self.cleaned_data.get("phone", "").strip()
        if not raw:
            return ""
        error = ValidationError(
            _(
                "“%(value)s” is not a phone number. Check the digits, or start with the country "
                "code, for example +33 6 12 34 56 78."
            ),
            code="invalid_phone",
            params={"value": raw},
        )
        try:
            number = phonenumbers.parse(raw, PHONE_REGION)
        except phonenumbers.NumberParseException:
            raise error from None
        if not phonenumbers.is_valid_number(number):
            raise error
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        procedure: RulePack | None = cleaned.get("procedure")
        raw = cleaned.get("department")
        if procedure is not None and raw:
            code = normalise_department(raw)
            if code not in procedures.departments_on(procedure.key, today()):
                self.add_error(
                    "department",
                    ValidationError(
                        _(
                            "“%(value)s” is not a department code this procedure knows. Use the "
                            "INSEE code: 01 to 95, 2A, 2B, or 971 to 976."
                        ),
                        code="unknown_department",
                        params={"value": raw},
                    ),
                )
            else:
                cleaned["department"] = code
        if cleaned.get("sms_consent") and not cleaned.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("Give a phone number to send SMS reminders to."))
        if cleaned.get("email_consent") and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", _("Give an email address to send reminders to."))
        return cleaned

    def _post_clean(self) -> None:
        # The model's own validation would mutate the stored case on every bound form; the
        # fields are validated above and the write goes through cases/actions.py.
        return

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}


class OutcomeSelect(forms.Select):
    """Each option names the event types it belongs to, for the few lines of JS that filter."""

    def __init__(self, *args: Any, types_by_outcome: dict[str, list[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.types_by_outcome = types_by_outcome

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(name, value, *args, **kwargs)
        if value in self.types_by_outcome:
            option["attrs"]["data-event-types"] = " ".join(self.types_by_outcome[value])
        return option


class TypeSelect(forms.Select):
    def __init__(self, *args: Any, outcomes_by_type: dict[str, list[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes_by_type = outcomes_by_type

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(name, value, *args, **kwargs)
        if self.outcomes_by_type.get(value):
            option["attrs"]["data-outcomes"] = " ".join(self.outcomes_by_type[value])
        return option


class EventForm(forms.Form):
    """An event of the case's timeline; types and outcomes come from the published pack."""

    type = forms.ChoiceField(label=_("Event"), error_messages={"required": _("Choose the event.")})
    date = date_field(_("Date"))
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        *args: Any,
        event_types: list[EventType],
        outcome_label: Callable[[str], str] = code_words,
        **kwargs: Any,
    ) -> None:
        """`outcome_label` gives the words for an outcome code (procedures.code_labeller)."""
        super().__init__(*args, **kwargs)
        self.outcome_label = outcome_label
        if self.is_bound and self._date_after_today():
            # Asked only once a date after today is typed (§7.2 event_in_future): a typo or a
            # planned step, either way the caseworker looks again before it is saved.
            self.fields["confirm_date"] = forms.BooleanField(
                label=_("Yes, this date after today is right"), required=False
            )
        self.event_types = {t.code: t for t in event_types}
        outcomes_by_type = {t.code: t.outcome_list for t in event_types}
        types_by_outcome: dict[str, list[str]] = {}
        for code, outcomes in outcomes_by_type.items():
            for outcome in outcomes:
                types_by_outcome.setdefault(outcome, []).append(code)
        type_field: forms.ChoiceField = self.fields["type"]  # type: ignore[assignment]
        type_field.choices = [("", _("Choose…")), *((t.code, t.label) for t in event_types)]
        type_field.widget = TypeSelect(
            choices=type_field.choices, outcomes_by_type=outcomes_by_type
        )
        type_field.widget.attrs["data-outcome-filter"] = "outcome"
        outcome_field: forms.ChoiceField = self.fields["outcome"]  # type: ignore[assignment]
        outcome_field.choices = [
            ("", _("No outcome")),
            *((o, outcome_label(o)) for o in types_by_outcome),
        ]
        outcome_field.widget = OutcomeSelect(
            choices=outcome_field.choices, types_by_outcome=types_by_outcome
        )
        outcome_field.help_text = _("Only for a decision: what was decided.")

    def _date_after_today(self) -> bool:
        try:
            day = self.fields["date"].clean(self.data.get(self.add_prefix("date")))
        except ValidationError:
            return False
        return isinstance(day, dt.date) and day > today()

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        day = cleaned.get("date")
        if "confirm_date" in self.fields and day and not cleaned.get("confirm_date"):
            self.add_error(
                "date",
                ValidationError(
                    _(
                        "%(day)s is after today: check the date, then tick “Yes, this date "
                        "after today is right” to save it."
                    ),
                    code="date_in_future",
                    params={"day": date_format(day, "DATE_FORMAT")},
                ),
            )
        cleaned.pop("confirm_date", None)
        event_type = self.event_types.get(cleaned.get("type", ""))
        outcome = cleaned.get("outcome", "")
        if event_type is None:
            return cleaned
        allowed = event_type.outcome_list
        if allowed and not outcome:
            self.add_error(
                "outcome",
                ValidationError(
                    _("Say what “%(event)s” decided: %(choices)s."),
                    code="outcome_missing",
                    params={
                        "event": event_type.label,
                        "choices": ", ".join(self.outcome_label(o) for o in allowed),
                    },
                ),
            )
        elif allowed and outcome not in allowed:
            self.add_error(
                "outcome",
                ValidationError(
                    _("“%(outcome)s” is not an outcome of “%(event)s”: choose %(choices)s."),
                    code="outcome_unknown",
                    params={
                        "outcome": self.outcome_label(outcome),
                        "event": event_type.label,
                        "choices": ", ".join(self.outcome_label(o) for o in allowed),
                    },
                ),
            )
        elif not allowed and outcome:
            self.add_error(
                "outcome",
                ValidationError(
                    _("“%(event)s” has no outcome: leave this field empty."),
                    code="outcome_not_expected",
                    params={"event": event_type.label},
                ),
            )
        return cleaned

    @classmethod
    def initial_for(cls, event: CaseEvent) -> dict[str, Any]:
        return {
            "type": event.type,
            "date": event.date,
            "outcome": event.outcome,
            "note": event.note,
        }


class NewElementForm(forms.Form):
    """A new fact or piece of evidence, with when it arose and when the applicant learned of it."""

    date = date_field(_("Date it arose"))
    known_on = date_field(
        _("Date the applicant learned of it"),
        required=False,
        help_text=_("Leave empty if it is the same day."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        arose, known_on = cleaned.get("date"), cleaned.get("known_on")
        if arose and known_on and known_on < arose:
            self.add_error(
                "known_on",
                ValidationError(
                    _(
                        "The applicant cannot have learned of it before it arose: give a date "
                        "on or after %(date)s."
                    ),
                    code="known_before_arose",
                    params={"date": date_format(arose, "DATE_FORMAT")},
                ),
            )
        return cleaned

    @classmethod
    def initial_for(cls, element: NewElement) -> dict[str, Any]:
        return {
            "date": element.date,
            "known_on": element.known_on,
            "description": element.description,
        }
