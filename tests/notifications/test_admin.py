"""The admin shows queue depth and failures with their error, retries failed alerts, and lets
legal staff edit message templates (checked, previewed, with history)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from cases.models import Case
from cases.roles import LEGAL_STAFF
from notifications.models import MessageTemplate, Notification
from notifications.planner import plan_cases
from tests.conftest import sign_in_verified
from tests.notifications.conftest import NOW

Status = Notification.Status


@pytest.fixture
def admin_client_(client: Client, django_user_model: type[User]) -> Client:
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    return sign_in_verified(client, root)


def test_the_alert_list_shows_queue_depth_and_failures_with_their_last_error(
    admin_client_: Client, deadline_case: Case, celery_eager: None
) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    failed = Notification.objects.get(lead_days=5)
    Notification.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, last_error="SMTP server refused the recipient (550)"
    )
    page = admin_client_.get(reverse("admin:notifications_notification_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "<strong>planned</strong> 4" in text
    assert "<strong>failed</strong> 1" in text
    assert "SMTP server refused the recipient (550)" in text


def test_the_retry_action_plans_a_failed_alert_again(
    admin_client_: Client,
    deadline_case: Case,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    failed = Notification.objects.get(lead_days=5)
    Notification.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, attempts=3, last_error="boom"
    )
    queued: list[list[int]] = []
    monkeypatch.setattr("notifications.dispatch.enqueue", lambda ids, **k: queued.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(
            reverse("admin:notifications_notification_changelist"),
            {"action": "retry_selected", "_selected_action": [failed.pk]},
        )
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (Status.PLANNED, 0, "")
    assert queued == [[failed.pk]]


def test_a_template_with_a_syntax_error_is_refused(admin_client_: Client) -> None:
    template = MessageTemplate.objects.get(name="applicant_reminder", channel="sms", language="fr")
    url = reverse("admin:notifications_messagetemplate_change", args=[template.pk])
    response = admin_client_.post(
        url,
        {
            "name": template.name,
            "channel": "sms",
            "language": "fr",
            "subject": "",
            "text": "Rappel {% if %}",
            "html": "",
            "reviewed": "on",
            "notes": "",
        },
    )
    assert response.status_code == 200
    assert "Template error" in response.content.decode()


def test_the_template_page_previews_the_sms_and_counts_its_segments(admin_client_: Client) -> None:
    template = MessageTemplate.objects.get(name="applicant_reminder", channel="sms", language="fr")
    page = admin_client_.get(
        reverse("admin:notifications_messagetemplate_change", args=[template.pk])
    )
    assert "1 segment (GSM-7" in page.content.decode()
    listing = admin_client_.get(reverse("admin:notifications_messagetemplate_changelist"))
    assert "1 segment (GSM-7" in listing.content.decode()


def test_legal_staff_may_edit_templates_and_each_edit_is_kept(db: None) -> None:
    group = Group.objects.get(name=LEGAL_STAFF)
    codenames = set(
        group.permissions.filter(content_type__app_label="notifications").values_list(
            "codename", flat=True
        )
    )
    assert {"view_messagetemplate", "add_messagetemplate", "change_messagetemplate"} <= codenames
    assert not any("notification" in c and "template" not in c for c in codenames)
    template = MessageTemplate.objects.get(name="applicant_reminder", channel="sms", language="en")
    template.text = "Reminder: {{ due_date_short }}."
    template.save()
    assert template.history.count() == 2


def test_an_alert_page_shows_its_attempts_but_not_its_acknowledgement_secret(
    admin_client_: Client, deadline_case: Case
) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    alert = Notification.objects.get(lead_days=5)
    page = admin_client_.get(reverse("admin:notifications_notification_change", args=[alert.pk]))
    assert page.status_code == 200
    assert alert.ack_token not in page.content.decode()
