"""Every alert to a caseworker (and a supervisor) carries the warnings of the case's result that
concern its deadline (pack spec §7.5): in full by email, titles only by SMS; never to applicants.
In French and in English, for a case whose due date is past the pack's review horizon."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from cases.models import Case, Organisation
from notifications.messages import render, render_template
from notifications.models import MessageTemplate, Notification
from notifications.planner import plan_cases
from rules.models import PackVersion
from tests.cases.personas import make_case
from tests.cases.test_every_text_translated import assert_in_language, visible_text
from tests.cases.test_warnings_where_people_look import MESSAGE_START, TITLE, version_2
from tests.notifications.conftest import paris

__all__ = ["version_2"]  # the fixture, used below

WARNING = {"fr": "Attention :", "en": "Warning:"}
HEADING = {"fr": "Avertissements sur ce dossier :", "en": "Warnings about this file:"}


@pytest.fixture
def past_horizon(version_2: PackVersion, org_a: Organisation, caseworker: User) -> Case:
    """Presented at the Metz prefecture on 10 June 2026: registration due after 11 June."""
    return make_case(
        org_a,
        caseworker,
        version_2,
        [("prefecture_presentation", dt.date(2026, 6, 10))],
        reference="H-001",
        applicant_name="Amina Diallo",
        department="57",
    )


def caseworker_alert(case: Case) -> Notification:
    plan_cases([case.pk], now=paris(2026, 6, 10, 9))
    return Notification.objects.select_related("case", "deadline", "recipient_user").get(
        case=case,
        deadline_key="registration",
        audience=Notification.Audience.CASEWORKER,
        lead_days=5,
    )


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_caseworker_email_carries_the_warnings_in_full(
    past_horizon: Case, settings: Any, language: str
) -> None:
    settings.LANGUAGE_CODE = language  # staff alerts are written in the site's language
    message = render(caseworker_alert(past_horizon), paris(2026, 6, 10, 9))
    assert message.language == language
    assert f"{HEADING[language]}\n- {TITLE[language]}" in message.text
    assert MESSAGE_START[language] in message.text
    html = visible_text(message.html)
    assert HEADING[language] in html
    assert MESSAGE_START[language] in html
    for text in (message.text, html):
        assert_in_language(text, language, "caseworker email")
        assert "Amina" not in text


def test_a_template_naming_the_warnings_places_them_itself(past_horizon: Case) -> None:
    MessageTemplate.objects.filter(name="caseworker_reminder", channel="email").update(
        text="{{ case_reference }}{% for w in warnings %} [{{ w.title }}]{% endfor %}"
    )
    message = render(caseworker_alert(past_horizon), paris(2026, 6, 10, 9))
    assert message.text == f"H-001 [{TITLE['fr']}]\n"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_caseworker_sms_carries_only_the_warnings_titles(
    past_horizon: Case, language: str
) -> None:
    alert = caseworker_alert(past_horizon)
    template = MessageTemplate.objects.create(
        name="caseworker_reminder",
        channel="sms",
        language=language,
        text="{{ case_reference }} : {{ deadline_label }}, {{ due_date_short }}.",
        reviewed=True,
    )
    from notifications.messages import context_for

    message = render_template(template, context_for(alert, language, paris(2026, 6, 10, 9)))
    assert message.text.endswith(f" {WARNING[language]} {TITLE[language]}.")
    assert MESSAGE_START[language] not in message.text  # short: no full message by SMS
    assert "Amina" not in message.text
    assert len(message.text) < 160


def test_applicant_alerts_carry_no_warnings(
    version_2: PackVersion, org_a: Organisation, caseworker: User
) -> None:
    registered = make_case(
        org_a,
        caseworker,
        version_2,
        [
            ("prefecture_presentation", dt.date(2026, 6, 10)),
            ("registration", dt.date(2026, 6, 12)),
        ],
        reference="H-002",
        department="57",
        email="amina@example.net",
        email_consent=True,
    )
    submission = registered.deadlines.get(key="ofpra_submission")
    assert [w["code"] for w in submission.warnings_in("fr")] == ["review_horizon"]
    plan_cases([registered.pk], now=paris(2026, 6, 12, 9))
    applicant = Notification.objects.filter(
        case=registered, audience=Notification.Audience.APPLICANT
    ).select_related("case", "deadline")
    assert applicant.exists()
    for alert in applicant:
        message = render(alert, paris(2026, 6, 12, 9))
        for text in (message.subject, message.text, message.html):
            assert TITLE["fr"] not in text
            assert TITLE["en"] not in text
