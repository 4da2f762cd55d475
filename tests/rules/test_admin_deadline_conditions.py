"""A warning's condition on computed deadlines, and alternatives, are validated in the admin like
any other condition: a wrong one is refused naming its part, a right one is saved."""

from __future__ import annotations

import json

from django.test import Client

from rules.models import PackVersion, WarningRule
from tests.rules.test_admin import draft, form_data, legal, url

__all__ = ["draft", "legal"]  # fixtures

PAST = [{"fact": "deadline", "where": {"due": {"gt": {"setting": "reviewed_until"}}}}]
EVENT = [{"fact": "event", "where": {"date": {"gt": {"setting": "reviewed_until"}}}}]


def test_a_deadline_condition_on_a_field_deadlines_lack_is_refused(
    draft: PackVersion, legal: Client
) -> None:
    warning = WarningRule.objects.get(pack_version=draft, code="review_horizon")
    when = [{"fact": "deadline", "where": {"date": {"gt": {"setting": "reviewed_until"}}}}]
    response = legal.post(
        url(warning), form_data(warning, when=json.dumps(when), change_reason="test")
    )
    errors = response.context["adminform"].form.errors
    assert errors["when"][0].startswith("when[0].where.date")
    assert "deadline facts have no field 'date'" in errors["when"][0]


def test_a_message_naming_what_one_alternative_lacks_is_refused(
    draft: PackVersion, legal: Client
) -> None:
    warning = WarningRule.objects.get(pack_version=draft, code="review_horizon")
    when = [{"any": [EVENT, PAST]}]
    response = legal.post(
        url(warning),
        form_data(
            warning,
            when=json.dumps(when),
            message="After {pack.reviewed_until}: the event of {event.date}.",
            change_reason="test",
        ),
    )
    errors = response.context["adminform"].form.errors
    assert "{event.date}: no pattern is named 'event'" in errors["message"][0]


def test_alternatives_on_events_and_due_dates_are_saved(draft: PackVersion, legal: Client) -> None:
    warning = WarningRule.objects.get(pack_version=draft, code="review_horizon")
    when = [{"any": [EVENT, PAST]}]
    response = legal.post(
        url(warning),
        form_data(
            warning,
            when=json.dumps(when),
            message="Reviewed up to {pack.reviewed_until}: check before relying on this.",
            change_reason="test",
        ),
    )
    assert response.status_code == 302
    warning.refresh_from_db()
    assert json.loads(warning.when) == when
