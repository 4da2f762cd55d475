"""Legal staff's workbench: every rule record, validated against its whole pack, with history.

Each form asks why the change is made; django-simple-history stores the reason with the acting
user. A record is validated by the same validator as pack files (rules/engine/pack.py), judged
within its pack version, and a save or delete that would still leave the pack invalid (two inline
rows that together overlap, a deleted event type that a rule uses) is rolled back with a message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet, model_to_dict, modelform_factory
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from . import scenarios as scenario_runs
from . import workbench
from .admin_views.history import RuleHistoryAdmin
from .engine.pack import PackError
from .models import (
    AlertPolicy,
    DeadlineRule,
    DeadlineRuleVersion,
    EventType,
    HolidayAdjustmentDay,
    HolidayAdjustmentVersion,
    LookupRow,
    LookupTable,
    LookupTableVersion,
    Milestone,
    Outcome,
    OutcomeRule,
    PackTranslation,
    PackVersion,
    ReadOnlyVersion,
    RulePack,
    Scenario,
    WarningRule,
    read_only_message,
)
from .packstore import copy_as_draft, definition, judge_save, validate_record

REASON_HELP = "Why this change is made (kept in the history with your name), e.g. 'Décret n° …'."


def _pack_version(obj: models.Model) -> PackVersion | None:
    return workbench.pack_version_of(obj)


def _sibling_overlaps(instance: models.Model) -> list[str]:
    """Overlaps between a version being saved and the rule's other saved versions."""
    if type(instance) not in workbench.VERSIONED:
        return []
    try:
        others = [v for v in workbench.versions_of(instance) if v.pk != instance.pk]
    except (ValueError, models.ObjectDoesNotExist):
        return []
    periods = [workbench.period_of(v) for v in others] + [workbench.period_of(instance)]
    return workbench.overlap_sentences(periods)


class ReasonForm(forms.ModelForm):
    """Asks for a reason; judges the record within its whole pack, which must be a draft."""

    change_reason = forms.CharField(
        max_length=100,
        help_text=REASON_HELP,
        label="Reason for the change",
        widget=forms.TextInput(attrs={"size": 80}),
    )

    def _post_clean(self) -> None:  # Django judges the instance here
        super()._post_clean()  # type: ignore[misc]
        instance = self.instance
        version = _pack_version(instance)
        if version is not None and version.pk is not None and not isinstance(instance, PackVersion):
            try:
                workbench.ensure_draft(version)
            except ReadOnlyVersion as error:
                self.add_error(None, error)
                return
        if self.errors:
            return
        overlaps = _sibling_overlaps(instance)
        if overlaps:
            self.add_error("effective_from" if "effective_from" in self.fields else None, overlaps)
            return
        try:
            validate_record(instance)
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]


class WholeSaveFormSet(BaseInlineFormSet):
    """Judges the inline rows together with their parent, as one save, within the whole pack.

    Ending version 2 on 4 April and adding version 3 from 5 April in one save is accepted: the
    rows are compared with each other as typed, not one by one with the saved versions.
    """

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms if form.has_changed()):
            return
        rows = [
            (form.instance, bool(self.can_delete and self._should_delete_form(form)))  # type: ignore[attr-defined]
            for form in self.forms
            if form.has_changed() or form.instance.pk is not None
        ]
        kind = workbench.VERSIONED.get(self.model)
        if kind is not None:
            groups: dict[tuple[Any, ...], list[workbench.Period]] = {}
            for instance, deleted in rows:
                if not deleted and getattr(instance, "version", None) is not None:
                    ident = tuple(getattr(instance, name) for name in kind.identity)
                    groups.setdefault(ident, []).append(workbench.period_of(instance))
            sentences = [
                s for periods in groups.values() for s in workbench.overlap_sentences(periods)
            ]
            if sentences:
                raise ValidationError(sentences)
        if not any(form.has_changed() for form in self.forms):
            return
        row_errors, general = judge_save(self.instance, rows)
        forms_by_row = [form for form in self.forms if form.has_changed() or form.instance.pk]
        for index, field, message in row_errors:
            form = forms_by_row[index]
            form.add_error(field if field in form.fields else None, message)
        if general:
            raise ValidationError(general)


class PackRecordAdmin(RuleHistoryAdmin):
    """Asks for a reason, and refuses a save or delete that leaves the pack invalid."""

    form = ReasonForm
    save_on_top = True
    list_select_related = True  # the status column reads each row's pack version
    change_form_template = "admin/rules/workbench_change_form.html"

    # --- published and retired versions are read-only ---------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not workbench.is_editable(obj):
            return False
        return bool(super().has_change_permission(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not workbench.is_editable(obj):
            return False
        return bool(super().has_delete_permission(request, obj))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if obj is not None:
            version = _pack_version(obj)
            if request.method == "GET" and version is not None and not workbench.is_editable(obj):
                version.refresh_from_db()
                messages.warning(request, read_only_message(version))
            if workbench.is_editable(obj) and self.version_source(obj) is not None:
                context["new_version_url"] = reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_new_version",
                    args=[obj.pk],
                )
        response: HttpResponse = super().change_view(request, object_id, form_url, context)
        return response

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # New records go into drafts only.
        draft = PackVersion.Status.DRAFT
        limits = {
            "pack_version": {"status": draft},
            "rule": {"pack_version__status": draft},
            "table": {"pack_version__status": draft},
            "table_version": {"table__pack_version__status": draft},
            "outcome": {"pack_version__status": draft},
        }
        if db_field.name in limits and "queryset" not in kwargs:
            kwargs["queryset"] = db_field.related_model._default_manager.filter(
                **limits[db_field.name]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Pack version")
    def pack_version_status(self, obj: Any) -> str:
        version = _pack_version(obj)
        if version is None:
            return "-"
        if version.status == PackVersion.Status.DRAFT:
            return format_html("<strong>v{} draft</strong>", version.number)
        return format_html("v{} {} (read-only)", version.number, version.status)

    # --- "new version of this rule" ---------------------------------------------------------

    def version_source(self, obj: Any) -> Any:
        """The version a "new version of this rule" form starts from (None: no such button)."""
        return None

    def get_urls(self) -> list[Any]:
        info = (self.opts.app_label, self.opts.model_name)
        return [
            path(
                "<path:object_id>/new-version/",
                self.admin_site.admin_view(self.new_version_view),
                name="{}_{}_new_version".format(*info),
            ),
            *super().get_urls(),
        ]

    def new_version_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, object_id)
        source = self.version_source(obj) if obj is not None else None
        if obj is None or source is None:
            raise Http404("No such rule")
        back = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        if not workbench.is_editable(obj) or not self.has_change_permission(request, obj):
            version = _pack_version(obj)
            if version is not None:
                messages.error(request, read_only_message(version))
            return HttpResponseRedirect(back)
        model = type(source)
        names = workbench.editable_fields(model)
        form_class = modelform_factory(model, fields=names)
        form_class.base_fields = {
            "applies_from": forms.DateField(
                label="Applies from",
                help_text="First day the new version is in force; the version in force ends the "
                "day before.",
                widget=forms.DateInput(attrs={"type": "date"}),
            ),
            **form_class.base_fields,
            "change_reason": forms.CharField(
                max_length=100,
                label="Reason for the change",
                help_text=REASON_HELP,
                widget=forms.TextInput(attrs={"size": 80}),
            ),
        }
        if request.method == "POST":
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    new = workbench.add_version(
                        source,
                        effective_from=form.cleaned_data["applies_from"],
                        changes={name: form.cleaned_data[name] for name in names},
                        user=request.user,
                        reason=form.cleaned_data["change_reason"],
                    )
                except (workbench.Refused, ReadOnlyVersion) as error:
                    sentences = getattr(error, "sentences", None) or error.messages  # type: ignore[union-attr]
                    for sentence in sentences:
                        form.add_error(None, sentence)
                else:
                    messages.success(
                        request,
                        f"Version {new.version} added from {workbench.day(new.effective_from)}; "
                        f"the version in force before it ends the day before.",
                    )
                    return HttpResponseRedirect(back)
        else:
            form = form_class(initial=model_to_dict(source, fields=names))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "form": form,
            "back_url": back,
            "source_label": str(workbench.period_of(source)),
            "title": f"New version of {obj}",
        }
        return TemplateResponse(request, "admin/rules/new_version.html", context)

    # --- saving -----------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj._change_reason = form.cleaned_data.get("change_reason", "")
        request._change_reason = obj._change_reason  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        reason = getattr(request, "_change_reason", "")
        for inline_form in formset.forms:
            inline_form.instance._change_reason = reason
        for deleted in getattr(formset, "deleted_objects", []) or []:
            deleted._change_reason = reason
        super().save_formset(request, form, formset, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        self._check_pack(request, form.instance)
        version = _pack_version(form.instance)
        if version is not None and version.pk is not None:
            self._mark_edited(request, version)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        version = _pack_version(obj)
        super().delete_model(request, obj)
        if version is not None and version.pk and not isinstance(obj, PackVersion):
            self._check_pack(request, version)
            self._mark_edited(request, version)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        kept = [obj for obj in queryset if not workbench.is_editable(obj)]
        if kept:
            messages.error(
                request,
                f"{len(kept)} record(s) of published or retired versions were not deleted: "
                "copy the version as a new draft and change the draft.",
            )
            queryset = queryset.exclude(pk__in=[obj.pk for obj in kept])
        versions = {v.pk: v for v in (_pack_version(o) for o in queryset) if v is not None}
        super().delete_queryset(request, queryset)
        for version in versions.values():
            self._check_pack(request, version)
            self._mark_edited(request, version)

    def _mark_edited(self, request: HttpRequest, version: PackVersion) -> None:
        if not getattr(request, "_pack_errors", None):  # else the save is being rolled back
            workbench.mark_edited(version, request.user)

    def _check_pack(self, request: HttpRequest, obj: models.Model) -> None:
        version = obj if isinstance(obj, PackVersion) else _pack_version(obj)
        if version is None or not PackVersion.objects.filter(pk=version.pk).exists():
            return
        try:
            definition(version)
        except PackError as error:
            transaction.set_rollback(True)
            request._pack_errors = error.errors  # type: ignore[attr-defined]

    def _refused(self, request: HttpRequest) -> HttpResponse | None:
        errors = getattr(request, "_pack_errors", None)
        if not errors:
            return None
        # The success message queued by the admin is replaced by the refusal.
        list(messages.get_messages(request))
        text = "; ".join(f"{path}: {message}" for path, message in errors[:8])
        messages.error(request, f"Nothing was saved: the pack would be invalid ({text}).")
        return HttpResponseRedirect(request.get_full_path())

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # A save the whole-pack check refused was rolled back: nothing to log (and logging in
        # the rolled-back transaction would fail).
        if getattr(request, "_pack_errors", None):
            return None
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "_pack_errors", None):
            return None
        return super().log_change(request, obj, message)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        return self._refused(request) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any) -> Any:
        return self._refused(request) or super().response_change(request, obj)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any) -> Any:
        if getattr(request, "_pack_errors", None):
            self._refused(request)
            return HttpResponseRedirect(request.path.rsplit("/delete/", 1)[0] + "/change/")
        return super().response_delete(request, obj_display, obj_id)


class ProvenanceFieldsets:
    provenance: Any = (
        "When in force and why",
        {
            "fields": (
                ("version", "confidence"),
                ("effective_from", "effective_to"),
                "legal_basis",
                "source_title",
                "source_url",
                "notes",
            )
        },
    )


class DraftInline(admin.options.InlineModelAdmin):
    """Inline rows of a draft, saved and judged with their parent; read-only once published."""

    formset = WholeSaveFormSet

    def _parent_editable(self, obj: Any) -> bool:
        return obj is None or workbench.is_editable(obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._parent_editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._parent_editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._parent_editable(obj) and super().has_delete_permission(request, obj)


@admin.register(RulePack)
class RulePackAdmin(SimpleHistoryAdmin):
    list_display = ("key", "name", "current_version")
    search_fields = ("key", "name")

    @admin.display(description="Published version")
    def current_version(self, obj: RulePack) -> str:
        version = obj.published_version()
        return f"v{version.number}" if version else "none"


class TranslationInline(DraftInline, admin.TabularInline):
    model = PackTranslation
    extra = 0
    fields = ("language", "source", "text")


class EventTypeInline(DraftInline, admin.TabularInline):
    model = EventType
    extra = 0
    fields = ("position", "code", "label", "outcomes", "not_before", "description")


class LinkInline(admin.TabularInline):
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeadlineRuleLinks(LinkInline):
    model = DeadlineRule
    fields = ("key", "label")
    readonly_fields = ("key", "label")


class LookupTableLinks(LinkInline):
    model = LookupTable
    fields = ("key", "label")
    readonly_fields = ("key", "label")


class OutcomeLinks(LinkInline):
    model = Outcome
    fields = ("key", "label", "shape")
    readonly_fields = ("key", "label", "shape")


class MilestoneLinks(LinkInline):
    model = Milestone
    fields = ("key", "label", "version")
    readonly_fields = ("key", "label", "version")


class HolidayAdjustmentLinks(LinkInline):
    model = HolidayAdjustmentVersion
    fields = ("version", "effective_from", "effective_to", "confidence")
    readonly_fields = ("version", "effective_from", "effective_to", "confidence")


class WarningLinks(LinkInline):
    model = WarningRule
    fields = ("code", "version", "legal_basis")
    readonly_fields = ("code", "version", "legal_basis")


@admin.register(PackVersion)
class PackVersionAdmin(PackRecordAdmin):
    list_display = (
        "pack",
        "number",
        "status",
        "verified_on",
        "last_edited_by",
        "published_at",
        "published_by",
    )
    list_filter = ("pack", "status")
    readonly_fields = (
        "status",
        "revision",
        "created_at",
        "last_edited_by",
        "last_edited_at",
        "published_at",
        "published_by",
        "publish_reason",
        "published_alone",
    )
    inlines = (
        EventTypeInline,
        DeadlineRuleLinks,
        MilestoneLinks,
        LookupTableLinks,
        OutcomeLinks,
        WarningLinks,
        HolidayAdjustmentLinks,
        TranslationInline,
    )
    actions = ("make_draft_copy", "publish", "validate_versions")
    fieldsets = (
        (None, {"fields": ("pack", "number", "status", "name", "description")}),
        (
            "Review",
            {"fields": ("verified_on", "reviewed_until", "source_title", "source_url", "notes")},
        ),
        (
            "Calendars and tables",
            {
                "fields": (
                    "holiday_country",
                    "weekend_days",
                    "department_table",
                    "authority_table",
                    "authority_outcome",
                    "anchor_event",
                )
            },
        ),
        (
            "Record",
            {
                "fields": (
                    "revision",
                    "created_at",
                    ("last_edited_by", "last_edited_at"),
                    ("published_at", "published_by", "published_alone"),
                    "publish_reason",
                    "change_reason",
                )
            },
        ),
    )

    @admin.action(description="Copy as a new draft version")
    def make_draft_copy(self, request: HttpRequest, queryset: QuerySet[PackVersion]) -> None:
        for version in queryset:
            try:
                draft = copy_as_draft(version)
            except PackError as error:
                self.message_user(
                    request, f"{version}: cannot copy an invalid version: {error}", messages.ERROR
                )
                continue
            url = reverse("admin:rules_packversion_change", args=[draft.pk])
            self.message_user(
                request, format_html('Draft created: <a href="{}">{}</a>', url, str(draft))
            )

    @admin.action(description="Publish… (opens the publish page of the selected draft)")
    def publish(self, request: HttpRequest, queryset: QuerySet[PackVersion]) -> HttpResponse | None:
        # Publishing needs a reason and its checks shown: one draft at a time, on its page,
        # through workbench.publish like every other way of publishing.
        drafts = list(queryset.filter(status=PackVersion.Status.DRAFT))
        if len(drafts) != 1 or queryset.count() != 1:
            self.message_user(
                request, "Select exactly one draft version to publish.", messages.ERROR
            )
            return None
        return HttpResponseRedirect(reverse("admin:rules_packversion_publish", args=[drafts[0].pk]))

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="rules_packversion_publish",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None and obj.status == PackVersion.Status.DRAFT:
            context["publish_url"] = reverse("admin:rules_packversion_publish", args=[obj.pk])
        return super().change_view(request, object_id, form_url, context)

    def publish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        version = self.get_object(request, object_id)
        if version is None:
            raise Http404("No such pack version")
        refusals: list[str] = []
        reason = ""
        if request.method == "POST":
            reason = request.POST.get("reason", "")
            try:
                workbench.publish(version, user=request.user, reason=reason)
            except workbench.PublishRefused as error:
                refusals = error.sentences
            else:
                self.message_user(
                    request,
                    f"{version.pack.key} version {version.number} is published; the previous "
                    "version is retired.",
                )
                return HttpResponseRedirect(
                    reverse("admin:rules_packversion_change", args=[version.pk])
                )
            version.refresh_from_db()
        invalid = workbench.validity_problems(version)
        runs = [] if invalid else scenario_runs.run_scenarios(version)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Publish {version}",
            "version": version,
            "published": version.pack.published_version(),
            "invalid": invalid,
            "runs": runs,
            "passed": sum(1 for run in runs if run.passed),
            "failing": [problem for run in runs for problem in run.problems],
            # The impact job's page (cases app); the lead links it by name at merge.
            "impact_url": f"/admin/cases/impactrun/?pack_version={version.pk}",
            "refusals": refusals,
            "reason": reason,
        }
        return TemplateResponse(request, "admin/rules/publish.html", context)

    @admin.action(description="Check that the version is valid")
    def validate_versions(self, request: HttpRequest, queryset: QuerySet[PackVersion]) -> None:
        for version in queryset:
            try:
                definition(version)
            except PackError as error:
                self.message_user(request, f"{version}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{version} is valid.")


class DeadlineRuleVersionInline(DraftInline, admin.StackedInline):
    model = DeadlineRuleVersion
    extra = 0
    fieldsets = (
        ProvenanceFieldsets.provenance,
        ("What it asks for", {"fields": ("description",)}),
        (
            "Trigger",
            {
                "fields": (
                    ("trigger_event", "trigger_outcome"),
                    "trigger_milestone",
                    ("trigger_choice", "trigger_occurrence"),
                )
            },
        ),
        (
            "Time limit",
            {
                "fields": (
                    "departments",
                    ("offset", "unit"),
                    ("calendar", "non_working_day_policy"),
                    ("extension", "extension_confidence"),
                    "extension_basis",
                )
            },
        ),
        ("Completion", {"fields": (("completed_by", "completion_on_or_after_trigger"),)}),
        (
            "Suspension",
            {
                "fields": (
                    ("suspended_by", "suspension_window_deadline"),
                    ("resumed_by", "resumption"),
                )
            },
        ),
    )


class AlertPolicyInline(DraftInline, admin.TabularInline):
    model = AlertPolicy
    extra = 0
    fields = ("position", "audience", "channels", "lead_days", "overdue", "after_working_days")


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(PackRecordAdmin):
    list_display = ("key", "label", "pack_version_status", "versions_in_force")
    list_filter = ("pack_version__status", "pack_version")
    ordering = ("pack_version__pack__key", "-pack_version__number", "position")
    search_fields = ("key", "label")
    inlines = (DeadlineRuleVersionInline, AlertPolicyInline)
    fields = (
        "pack_version",
        "position",
        "key",
        "label",
        "description",
        "version_by",
        "change_reason",
    )

    def version_source(self, obj: DeadlineRule) -> Any:
        return obj.versions.order_by("-version").first()

    @admin.display(description="Versions")
    def versions_in_force(self, obj: DeadlineRule) -> str:
        return ", ".join(
            f"v{v.version} {v.legal_basis} ({v.confidence})" for v in obj.versions.all()
        )


@admin.register(DeadlineRuleVersion)
class DeadlineRuleVersionAdmin(PackRecordAdmin):
    list_display = (
        "rule",
        "version",
        "pack_version_status",
        "effective_from",
        "effective_to",
        "offset",
        "unit",
        "departments",
        "legal_basis",
        "confidence",
    )
    list_filter = (
        "rule__pack_version__status",
        "confidence",
        "rule__pack_version",
        "unit",
        "extension",
    )
    ordering = (
        "rule__pack_version__pack__key",
        "-rule__pack_version__number",
        "rule__position",
        "version",
    )
    search_fields = ("rule__key", "legal_basis")
    fieldsets = (
        (None, {"fields": ("rule",)}),
        *DeadlineRuleVersionInline.fieldsets,
        ("Record", {"fields": ("change_reason",)}),
    )


class LookupTableVersionInline(DraftInline, admin.StackedInline):
    model = LookupTableVersion
    extra = 0
    show_change_link = True
    fieldsets = (ProvenanceFieldsets.provenance,)


@admin.register(LookupTable)
class LookupTableAdmin(PackRecordAdmin):
    list_display = ("key", "label", "pack_version_status")
    list_filter = ("pack_version__status", "pack_version")
    ordering = ("pack_version__pack__key", "-pack_version__number", "position")
    inlines = (LookupTableVersionInline,)
    fields = ("pack_version", "position", "key", "label", "description", "change_reason")

    def version_source(self, obj: LookupTable) -> Any:
        return obj.versions.order_by("-version").first()


class LookupRowInline(DraftInline, admin.TabularInline):
    model = LookupRow
    extra = 0
    fields = ("position", "key", "value", "label", "confidence", "notes")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 1})}}


@admin.register(LookupTableVersion)
class LookupTableVersionAdmin(PackRecordAdmin):
    list_display = (
        "table",
        "version",
        "pack_version_status",
        "effective_from",
        "effective_to",
        "legal_basis",
        "confidence",
    )
    list_filter = ("table__pack_version__status", "table__pack_version", "table")
    inlines = (LookupRowInline,)
    fieldsets = (
        (None, {"fields": ("table",)}),
        ProvenanceFieldsets.provenance,
        ("Record", {"fields": ("change_reason",)}),
    )


class HolidayAdjustmentDayInline(DraftInline, admin.TabularInline):
    model = HolidayAdjustmentDay
    extra = 0
    fields = ("position", "subdivision", "date", "action", "name")


@admin.register(HolidayAdjustmentVersion)
class HolidayAdjustmentVersionAdmin(PackRecordAdmin):
    list_display = ("version", "pack_version", "effective_from", "effective_to", "confidence")
    list_filter = ("pack_version", "confidence")
    inlines = (HolidayAdjustmentDayInline,)
    fieldsets = (
        (None, {"fields": ("pack_version",)}),
        ProvenanceFieldsets.provenance,
        ("Record", {"fields": ("change_reason",)}),
    )


@admin.register(LookupRow)
class LookupRowAdmin(PackRecordAdmin):
    list_display = ("key", "value", "label", "confidence", "table_version", "pack_version_status")
    list_filter = (
        "table_version__table__pack_version__status",
        "table_version__table__pack_version",
        "table_version__table",
    )
    search_fields = ("key", "value", "label")
    fields = (
        "table_version",
        "position",
        "key",
        "value",
        "label",
        "confidence",
        "notes",
        "change_reason",
    )


@admin.register(Milestone)
class MilestoneAdmin(PackRecordAdmin):
    list_display = ("key", "label", "version", "pack_version_status", "legal_basis", "confidence")
    list_filter = ("pack_version__status", "pack_version")
    ordering = ("pack_version__pack__key", "-pack_version__number", "position", "version")

    def version_source(self, obj: Milestone) -> Any:
        return workbench.newest_version(obj)

    fieldsets = (
        (
            None,
            {
                "fields": (
                    "pack_version",
                    "position",
                    "key",
                    "label",
                    "from_deadline",
                    ("fallback_event", "fallback_choice"),
                )
            },
        ),
        ProvenanceFieldsets.provenance,
        ("Record", {"fields": ("change_reason",)}),
    )


class OutcomeRuleInline(DraftInline, admin.StackedInline):
    model = OutcomeRule
    extra = 0
    fieldsets = (
        (None, {"fields": (("name", "priority", "position"), "when", "result", "since", "reason")}),
        ProvenanceFieldsets.provenance,
    )


@admin.register(Outcome)
class OutcomeAdmin(PackRecordAdmin):
    list_display = ("key", "label", "shape", "pack_version_status")
    list_filter = ("pack_version__status", "pack_version")
    ordering = ("pack_version__pack__key", "-pack_version__number", "position")
    inlines = (OutcomeRuleInline,)
    fields = ("pack_version", "position", "key", "label", "shape", "change_reason")


@admin.register(WarningRule)
class WarningRuleAdmin(PackRecordAdmin):
    list_display = ("code", "version", "pack_version_status", "legal_basis", "confidence")
    list_filter = ("pack_version__status", "pack_version")
    ordering = ("pack_version__pack__key", "-pack_version__number", "position", "version")

    def version_source(self, obj: WarningRule) -> Any:
        return workbench.newest_version(obj)

    fieldsets = (
        (None, {"fields": ("pack_version", "position", "code", "message", "when")}),
        ProvenanceFieldsets.provenance,
        ("Record", {"fields": ("change_reason",)}),
    )


@admin.register(EventType)
class EventTypeAdmin(PackRecordAdmin):
    list_display = ("code", "label", "outcomes", "pack_version_status")
    list_filter = ("pack_version__status", "pack_version")
    ordering = ("pack_version__pack__key", "-pack_version__number", "position")
    search_fields = ("code", "label")
    fields = (
        "pack_version",
        "position",
        "code",
        "label",
        "outcomes",
        "not_before",
        "description",
        "change_reason",
    )


class ScenarioForm(forms.ModelForm):
    """Scenario facts and expectations as JSON, each problem naming its field."""

    change_reason = forms.CharField(
        max_length=100,
        required=False,
        label="Reason for the change",
        widget=forms.TextInput(attrs={"size": 80}),
    )

    class Meta:
        model = Scenario
        fields = ("pack", "name", "description", "request", "expect", "origin")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pack = data.get("pack")
        if pack is not None and "request" in data:
            for problem in scenario_runs.request_problems(pack, data["request"]):
                self.add_error("request", problem)
        if "expect" in data:
            for problem in scenario_runs.expect_problems(data["expect"]):
                self.add_error("expect", problem)
        return data


@admin.register(Scenario)
class ScenarioAdmin(SimpleHistoryAdmin):
    form = ScenarioForm
    list_display = ("name", "pack", "as_of", "origin", "updated_at")
    list_filter = ("pack", "origin")
    search_fields = ("name", "description")
    actions = ("run_against_published", "run_against_draft")

    @admin.display(description="Judged on")
    def as_of(self, obj: Scenario) -> str:
        return str(obj.request.get("as_of", "")) if isinstance(obj.request, dict) else ""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj._change_reason = form.cleaned_data.get("change_reason") or (
            "changed in the admin" if change else "added in the admin"
        )
        super().save_model(request, obj, form, change)

    def _run(self, request: HttpRequest, queryset: QuerySet[Scenario], draft: bool) -> None:
        by_pack: dict[int, list[Scenario]] = {}
        for scenario in queryset.select_related("pack"):
            by_pack.setdefault(scenario.pack_id, []).append(scenario)
        for chosen in by_pack.values():
            pack = chosen[0].pack
            if draft:
                version = (
                    pack.versions.filter(status=PackVersion.Status.DRAFT)
                    .order_by("-number")
                    .first()
                )
            else:
                version = pack.published_version()
            if version is None:
                self.message_user(
                    request,
                    f"{pack.key} has no {'draft' if draft else 'published'} version.",
                    messages.ERROR,
                )
                continue
            runs = scenario_runs.run_scenarios(version, chosen)
            passed = sum(1 for run in runs if run.passed)
            self.message_user(
                request,
                f"{pack.key} v{version.number} ({version.status}): {passed} of {len(runs)} "
                "scenarios give the expected results.",
                messages.SUCCESS if passed == len(runs) else messages.WARNING,
            )
            for run in runs:
                for problem in run.problems:
                    self.message_user(request, problem, messages.ERROR)

    @admin.action(description="Run against the published version")
    def run_against_published(self, request: HttpRequest, queryset: QuerySet[Scenario]) -> None:
        self._run(request, queryset, draft=False)

    @admin.action(description="Run against the newest draft")
    def run_against_draft(self, request: HttpRequest, queryset: QuerySet[Scenario]) -> None:
        self._run(request, queryset, draft=True)
