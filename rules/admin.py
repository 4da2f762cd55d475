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
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

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
    RulePack,
    WarningRule,
)
from .packstore import copy_as_draft, definition

REASON_HELP = "Why this change is made (kept in the history with your name), e.g. 'Décret n° …'."


def _pack_version(obj: models.Model) -> PackVersion | None:
    from .packstore import _pack_version_of

    return _pack_version_of(obj)


class ReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        max_length=100,
        help_text=REASON_HELP,
        label="Reason for the change",
        widget=forms.TextInput(attrs={"size": 80}),
    )


class PackRecordAdmin(SimpleHistoryAdmin):
    """Asks for a reason, and refuses a save or delete that leaves the pack invalid."""

    form = ReasonForm
    save_on_top = True

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

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        version = _pack_version(obj)
        super().delete_model(request, obj)
        if version is not None and version.pk and not isinstance(obj, PackVersion):
            self._check_pack(request, version)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        versions = {v.pk: v for v in (_pack_version(o) for o in queryset) if v is not None}
        super().delete_queryset(request, queryset)
        for version in versions.values():
            self._check_pack(request, version)

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


@admin.register(RulePack)
class RulePackAdmin(SimpleHistoryAdmin):
    list_display = ("key", "name", "current_version")
    search_fields = ("key", "name")

    @admin.display(description="Published version")
    def current_version(self, obj: RulePack) -> str:
        version = obj.published_version()
        return f"v{version.number}" if version else "none"


class TranslationInline(admin.TabularInline):
    model = PackTranslation
    extra = 0
    fields = ("language", "source", "text")


class EventTypeInline(admin.TabularInline):
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
    list_display = ("pack", "number", "status", "verified_on", "reviewed_until", "published_at")
    list_filter = ("pack", "status")
    readonly_fields = ("revision", "published_at", "published_by", "created_at")
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
            {"fields": ("revision", "created_at", "published_at", "published_by", "change_reason")},
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

    @admin.action(description="Publish (the newest published version is the one evaluated)")
    def publish(self, request: HttpRequest, queryset: QuerySet[PackVersion]) -> None:
        for version in queryset:
            try:
                definition(version)
            except PackError as error:
                self.message_user(
                    request, f"{version} is invalid and was not published: {error}", messages.ERROR
                )
                continue
            with transaction.atomic():
                for older in PackVersion.objects.filter(
                    pack=version.pack, status=PackVersion.Status.PUBLISHED
                ).exclude(pk=version.pk):
                    older.status = PackVersion.Status.RETIRED
                    older._change_reason = f"superseded by v{version.number}"  # type: ignore[attr-defined]
                    older.save()
                version.status = PackVersion.Status.PUBLISHED
                version.published_at = timezone.now()
                version.published_by = request.user  # type: ignore[assignment]
                version._change_reason = "published"  # type: ignore[attr-defined]
                version.save()
            self.message_user(request, f"{version} published.")

    @admin.action(description="Check that the version is valid")
    def validate_versions(self, request: HttpRequest, queryset: QuerySet[PackVersion]) -> None:
        for version in queryset:
            try:
                definition(version)
            except PackError as error:
                self.message_user(request, f"{version}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{version} is valid.")


class DeadlineRuleVersionInline(admin.StackedInline):
    model = DeadlineRuleVersion
    extra = 0
    fieldsets = (
        ProvenanceFieldsets.provenance,
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


class AlertPolicyInline(admin.TabularInline):
    model = AlertPolicy
    extra = 0
    fields = ("position", "audience", "channels", "lead_days", "overdue", "after_working_days")


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(PackRecordAdmin):
    list_display = ("key", "label", "pack_version", "versions_in_force")
    list_filter = ("pack_version",)
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
        "effective_from",
        "effective_to",
        "offset",
        "unit",
        "departments",
        "legal_basis",
        "confidence",
    )
    list_filter = ("confidence", "rule__pack_version", "unit", "extension")
    search_fields = ("rule__key", "legal_basis")
    fieldsets = (
        (None, {"fields": ("rule",)}),
        *DeadlineRuleVersionInline.fieldsets,
        ("Record", {"fields": ("change_reason",)}),
    )


class LookupTableVersionInline(admin.StackedInline):
    model = LookupTableVersion
    extra = 0
    show_change_link = True
    fieldsets = (ProvenanceFieldsets.provenance,)


@admin.register(LookupTable)
class LookupTableAdmin(PackRecordAdmin):
    list_display = ("key", "label", "pack_version")
    list_filter = ("pack_version",)
    inlines = (LookupTableVersionInline,)
    fields = ("pack_version", "position", "key", "label", "description", "change_reason")


class LookupRowInline(admin.TabularInline):
    model = LookupRow
    extra = 0
    fields = ("position", "key", "value", "label")


@admin.register(LookupTableVersion)
class LookupTableVersionAdmin(PackRecordAdmin):
    list_display = (
        "table",
        "version",
        "effective_from",
        "effective_to",
        "legal_basis",
        "confidence",
    )
    list_filter = ("table__pack_version", "table")
    inlines = (LookupRowInline,)
    fieldsets = (
        (None, {"fields": ("table",)}),
        ProvenanceFieldsets.provenance,
        ("Record", {"fields": ("change_reason",)}),
    )


class HolidayAdjustmentDayInline(admin.TabularInline):
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
    list_display = ("key", "value", "label", "table_version")
    list_filter = ("table_version__table__pack_version", "table_version__table")
    search_fields = ("key", "value", "label")
    fields = ("table_version", "position", "key", "value", "label", "change_reason")


@admin.register(Milestone)
class MilestoneAdmin(PackRecordAdmin):
    list_display = ("key", "label", "version", "pack_version", "legal_basis", "confidence")
    list_filter = ("pack_version",)
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


class OutcomeRuleInline(admin.StackedInline):
    model = OutcomeRule
    extra = 0
    fieldsets = (
        (None, {"fields": (("name", "priority", "position"), "when", "result", "since", "reason")}),
        ProvenanceFieldsets.provenance,
    )


@admin.register(Outcome)
class OutcomeAdmin(PackRecordAdmin):
    list_display = ("key", "label", "shape", "pack_version")
    list_filter = ("pack_version",)
    inlines = (OutcomeRuleInline,)
    fields = ("pack_version", "position", "key", "label", "shape", "change_reason")


@admin.register(WarningRule)
class WarningRuleAdmin(PackRecordAdmin):
    list_display = ("code", "version", "pack_version", "legal_basis", "confidence")
    list_filter = ("pack_version",)
    fieldsets = (
        (None, {"fields": ("pack_version", "position", "code", "message", "when")}),
        ProvenanceFieldsets.provenance,
        ("Record", {"fields": ("change_reason",)}),
    )


@admin.register(EventType)
class EventTypeAdmin(PackRecordAdmin):
    list_display = ("code", "label", "outcomes", "pack_version")
    list_filter = ("pack_version",)
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
