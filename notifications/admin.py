"""The alerts in the admin: queue depth and health on top, failures with their last error, a
retry action; message templates editable by legal staff, with history, a preview and the SMS
segment count; planner runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template import TemplateSyntaxError
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .actions import retry_failed
from .health import alert_health
from .messages import RenderedMessage, _engine, render_template, written_date
from .models import DeliveryAttempt, MessageTemplate, Notification, PlannerRun, RecomputeNotice
from .segments import sms_size


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = (
        "number",
        "started_at",
        "duration_ms",
        "ok",
        "permanent",
        "reconciled",
        "provider_status",
        "provider_message_id",
        "error",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "case_reference",
        "deadline_key",
        "due",
        "kind",
        "lead_days",
        "audience",
        "channel",
        "status",
        "send_after",
        "attempts",
        "sent_at",
        "acknowledged_at",
        "short_error",
    )
    list_filter = ("status", "channel", "kind", "audience")
    search_fields = ("=id", "case__reference", "deadline_key")
    list_select_related = ("case",)
    date_hierarchy = "send_after"
    inlines = (DeliveryAttemptInline,)
    actions = ("retry_selected",)
    # Everything but the acknowledgement link's secret.
    readonly_fields = [f.name for f in Notification._meta.fields if f.name != "ack_token"]
    change_list_template = "admin/notifications/notification/change_list.html"

    @admin.display(description="file", ordering="case__reference")
    def case_reference(self, obj: Notification) -> str:
        return obj.case.reference

    @admin.display(description="last error")
    def short_error(self, obj: Notification) -> str:
        return obj.last_error[:80]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # what was sent, and why not, is the record

    @admin.action(description="Retry the selected failed alerts now")
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = retry_failed(queryset.values_list("pk", flat=True))
        messages.success(request, f"{count} failed alerts planned again and queued.")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        health = alert_health()
        recent_failures = (
            Notification.objects.filter(status=Notification.Status.FAILED)
            .select_related("case")
            .order_by("-updated_at")[:10]
        )
        context = {
            **(extra_context or {}),
            "alert_health": health,
            "recent_failures": recent_failures,
        }
        return super().changelist_view(request, extra_context=context)


def sample_context(language: str) -> dict[str, Any]:
    """Made-up values to preview a template (no real case)."""
    due = timezone.localdate() + dt.timedelta(days=2)
    return {
        "due": due,
        "due_date": written_date(due, language),
        "due_date_short": written_date(due, language, year=False),
        "days_left": 2,
        "days_overdue": 0,
        "lead_days": 2,
        "kind": "reminder",
        "case_reference": "A-001",
        "deadline_label": "Sending the request to OFPRA",
        "legal_basis": "CESEDA R531-36",
        "case_url": "https://example.org/cases/1/",
        "ack_url": "https://example.org/alerts/ack/x/",
        "alerts_url": "https://example.org/alerts/",
        "recipient_name": "Carla Dumas",
        "caseworker_name": "Carla Dumas",
        "caseworker_told_on": written_date(due, language),
    }


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ("name", "channel", "language", "subject", "text", "html", "reviewed", "notes")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        for field in ("subject", "text", "html"):
            try:
                _engine(field == "html").from_string(cleaned.get(field) or "")
            except TemplateSyntaxError as error:
                self.add_error(field, f"Template error: {error}")
        if cleaned.get("channel") == "email" and not (cleaned.get("subject") or "").strip():
            self.add_error("subject", "An email needs a subject.")
        return cleaned


@admin.register(MessageTemplate)
class MessageTemplateAdmin(SimpleHistoryAdmin):
    form = MessageTemplateForm
    list_display = ("name", "channel", "language", "reviewed", "sms_segments", "updated_at")
    list_filter = ("channel", "language", "reviewed", "name")
    search_fields = ("text", "subject")
    readonly_fields = ("preview",)
    save_on_top = True

    def _sample(self, obj: MessageTemplate) -> RenderedMessage | str:
        try:
            return render_template(obj, sample_context(obj.language))
        except TemplateSyntaxError as error:
            return f"template error: {error}"

    @admin.display(description="SMS size (sample)")
    def sms_segments(self, obj: MessageTemplate) -> str:
        if obj.channel != "sms":
            return "-"
        sample = self._sample(obj)
        return str(sms_size(sample.text)) if isinstance(sample, RenderedMessage) else sample

    @admin.display(description="preview with made-up values")
    def preview(self, obj: MessageTemplate) -> str:
        if obj.pk is None:
            return "Save to see a preview."
        sample = self._sample(obj)
        if not isinstance(sample, RenderedMessage):
            return sample
        size = f" — {sms_size(sample.text)}" if obj.channel == "sms" else ""
        return format_html(
            "<strong>{}</strong><pre style='white-space:pre-wrap'>{}</pre>{}",
            sample.subject,
            sample.text,
            size,
        )


@admin.register(PlannerRun)
class PlannerRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "finished_at",
        "cases",
        "created",
        "revived",
        "cancelled",
        "enqueued",
        "error",
    )
    readonly_fields = [f.name for f in PlannerRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RecomputeNotice)
class RecomputeNoticeAdmin(admin.ModelAdmin):
    """The caseworkers' emails after a re-evaluation: one per run and person (read-only)."""

    list_display = ("id", "run", "recipient", "language", "status", "attempts", "sent_at")
    list_filter = ("status",)
    list_select_related = ("run__pack_version__pack", "recipient")
    readonly_fields = [f.name for f in RecomputeNotice._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
