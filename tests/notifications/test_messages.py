"""The words: reviewed templates in the reader's language, the date written their way, and an
SMS that says no more than the person needs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from cases.models import Case
from notifications.admin import sample_context
from notifications.messages import NoTemplate, render, render_template, written_date
from notifications.models import MessageTemplate, Notification
from notifications.planner import plan_cases
from notifications.segments import sms_size
from notifications.shipped import ensure_shipped_templates, shipped_templates
from tests.notifications.conftest import NOW, paris

Kind = Notification.Kind


def planned(case: Case, **filters: object) -> Notification:
    plan_cases([case.pk], now=NOW)
    return Notification.objects.select_related("case", "deadline", "recipient_user").get(
        case=case, **filters
    )


def test_the_caseworker_email_names_the_file_links_to_it_and_never_names_the_applicant(
    deadline_case: Case,
) -> None:
    alert = planned(deadline_case, lead_days=2)
    message = render(alert, paris(2026, 3, 10))
    assert message.language == "fr"
    assert message.subject == (
        "Échéance dans 2 jours : A-001, Sending the request to OFPRA (12 mars 2026)"
    )
    assert "Le dossier A-001 a une échéance dans 2 jours, le 12 mars 2026" in message.text
    assert "CESEDA R531-36" in message.text
    assert f"https://delais.example.org/cases/{deadline_case.pk}/" in message.text
    assert f"https://delais.example.org/alerts/ack/{alert.ack_token}/" in message.text
    assert f'href="https://delais.example.org/alerts/ack/{alert.ack_token}/"' in message.html
    for text in (message.subject, message.text, message.html):
        assert "Amina" not in text
        assert "Diallo" not in text


def test_the_due_day_reminder_says_today(deadline_case: Case) -> None:
    message = render(planned(deadline_case, lead_days=0), paris(2026, 3, 12))
    assert message.subject.startswith("Échéance aujourd'hui : A-001")


def test_the_applicant_sms_says_only_the_date_and_whom_to_contact(deadline_case: Case) -> None:
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True)
    message = render(planned(deadline_case, channel="sms", lead_days=2), paris(2026, 3, 10))
    assert message.text == (
        "Rappel : une démarche pour votre dossier est à faire au plus tard "
        "le 12 mars. Contactez votre association."
    )
    for sensitive in ("OFPRA", "asile", "CESEDA", "A-001", "Amina", "Cimade", "Metz"):
        assert sensitive not in message.text
    size = sms_size(message.text)
    assert (size.encoding, size.segments) == ("GSM-7", 1)


def test_english_readers_get_english_with_the_date_written_their_way(deadline_case: Case) -> None:
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True, preferred_language="en")
    message = render(planned(deadline_case, channel="sms", lead_days=0), paris(2026, 3, 12))
    assert message.language == "en"
    assert message.text == (
        "Reminder: a step in your file must be done today. Please contact your association."
    )
    assert written_date(dt.date(2026, 3, 12), "en") == "12 Mar 2026"


def test_a_language_without_a_reviewed_template_falls_back_to_french(deadline_case: Case) -> None:
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True, preferred_language="ar")
    alert = planned(deadline_case, channel="sms", lead_days=2)
    MessageTemplate.objects.create(
        name="applicant_reminder",
        channel="sms",
        language="ar",
        reviewed=False,
        text="تذكير: يجب القيام بخطوة في ملفك قبل {{ due_date_short }}. اتصل بجمعيتك.",
    )
    assert render(alert, paris(2026, 3, 10)).language == "fr"  # not reviewed yet

    MessageTemplate.objects.filter(language="ar").update(reviewed=True)
    message = render(alert, paris(2026, 3, 10))
    assert message.language == "ar"
    assert "12 مارس" in message.text  # the date in Arabic, as Django's locale writes it
    size = sms_size(message.text)
    assert size.encoding == "UCS-2"
    assert size.segments == 1


def test_no_reviewed_template_in_any_fallback_language_is_an_error(deadline_case: Case) -> None:
    MessageTemplate.objects.filter(name="caseworker_reminder").update(reviewed=False)
    with pytest.raises(NoTemplate, match="caseworker_reminder"):
        render(planned(deadline_case, lead_days=2), NOW)


@pytest.mark.parametrize(
    ("day", "language", "expected"),
    [
        (dt.date(2026, 3, 1), "fr", "1er mars 2026"),
        (dt.date(2026, 3, 21), "fr", "21 mars 2026"),
        (dt.date(2026, 8, 3), "fr", "3 août 2026"),
        (dt.date(2026, 4, 8), "fr", "8 avr. 2026"),
        (dt.date(2026, 3, 1), "en", "1 Mar 2026"),
        (dt.date(2026, 4, 8), "en", "8 Apr 2026"),
    ],
)
def test_dates_are_written_for_the_reader(day: dt.date, language: str, expected: str) -> None:
    assert written_date(day, language) == expected


@pytest.mark.django_db
def test_french_and_english_are_shipped_reviewed_for_every_alert() -> None:
    names = {(t.name, t.channel, t.language) for t in MessageTemplate.objects.filter(reviewed=True)}
    for language in ("fr", "en"):
        for name in MessageTemplate.Name.values:
            assert (name, "email", language) in names
        assert ("applicant_reminder", "sms", language) in names
        assert ("applicant_overdue", "sms", language) in names


@pytest.mark.django_db
def test_every_shipped_email_comes_in_three_parts_and_every_sms_fits_two_segments() -> None:
    for values in shipped_templates():
        template = MessageTemplate(**values)
        for day in (dt.date(2026, 3, 12), dt.date(2026, 8, 3), dt.date(2026, 12, 24)):
            context = {
                **sample_context(template.language),
                "due": day,
                "due_date": written_date(day, template.language),
                "due_date_short": written_date(day, template.language, year=False),
            }
            message = render_template(template, context)
            if template.channel == "email":
                assert all((message.subject, message.text, message.html)), values["name"]
            else:
                assert sms_size(message.text).segments <= 2, (values, message.text)


@pytest.mark.django_db
def test_shipped_templates_never_overwrite_staff_edits() -> None:
    MessageTemplate.objects.filter(name="applicant_reminder", channel="sms", language="fr").update(
        text="Texte revu."
    )
    MessageTemplate.objects.filter(name="applicant_overdue", language="en").delete()
    assert ensure_shipped_templates() == 2  # the email and the SMS come back
    assert (
        MessageTemplate.objects.get(name="applicant_reminder", channel="sms", language="fr").text
        == "Texte revu."
    )
    call_command("migrate", verbosity=0)  # and again after every migrate: still one of each
    assert MessageTemplate.objects.filter(name="applicant_overdue").count() == 4


def test_an_overdue_alert_for_the_caseworker(deadline_case: Case) -> None:
    message = render(planned(deadline_case, kind=Kind.OVERDUE), paris(2026, 3, 13))
    assert message.subject == (
        "Échéance dépassée : A-001, Sending the request to OFPRA (12 mars 2026)"
    )
    assert "votre responsable sera prévenu(e)" in message.text


def test_the_supervisor_hears_who_was_told_and_when(
    deadline_case: Case, supervisor: object
) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    Notification.objects.filter(kind=Kind.OVERDUE).update(
        status=Notification.Status.SENT, sent_at=paris(2026, 3, 13, 8)
    )
    plan_cases([deadline_case.pk], now=paris(2026, 3, 13, 9))
    escalation = Notification.objects.select_related("case", "deadline", "recipient_user").get(
        kind=Kind.ESCALATION
    )
    message = render(escalation, paris(2026, 3, 16, 8))
    assert message.subject == (
        "Échéance dépassée sans accusé de réception : A-001, Sending the request to OFPRA"
    )
    assert "Bonjour Sofia Marchetti," in message.text
    assert "Carla Dumas a été alerté(e) le 13 mars 2026 et n'en a pas accusé réception." in (
        message.text
    )
    assert f"/alerts/ack/{escalation.ack_token}/" in message.text
