"""Events out of the order the pack declares are refused, naming the event."""

from __future__ import annotations

from rest_framework.test import APIClient

from rules.models import PackVersion
from tests.conftest import Amend


def test_a_registration_dated_before_the_presentation_is_refused(
    asylum_pack: object, token_client: APIClient
) -> None:
    response = token_client.post(
        "/api/v1/evaluate",
        {
            "procedure": "asylum-reexamination",
            "department": "75",
            "events": [
                {"type": "prefecture_presentation", "date": "2026-04-02"},
                {"type": "registration", "date": "2026-04-01"},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "events[1].date",
            "message": "Registration of the application cannot be dated before presentation at "
            "the prefecture (2026-04-02)",
        }
    ]


def test_the_order_is_rule_data_that_legal_staff_can_lift(
    asylum_pack: PackVersion, token_client: APIClient, amend: Amend
) -> None:
    from rules.models import EventType

    def change(draft: PackVersion) -> None:
        event_type = EventType.objects.get(pack_version=draft, code="registration")
        event_type.not_before = ""
        event_type.save()

    amend(asylum_pack, change)
    response = token_client.post(
        "/api/v1/evaluate",
        {
            "procedure": "asylum-reexamination",
            "department": "75",
            "events": [
                {"type": "prefecture_presentation", "date": "2026-04-02"},
                {"type": "registration", "date": "2026-04-01"},
            ],
        },
        format="json",
    )
    assert response.status_code == 200
