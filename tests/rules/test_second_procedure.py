"""A second procedure is a new rule pack loaded as data, evaluated by the same API."""

from __future__ import annotations

from rest_framework.test import APIClient

from rules.packstore import load_pack
from tests.engine.test_evaluate import pack_dict


def test_a_pack_loaded_as_data_is_evaluated_over_the_api(
    asylum_pack: object, token_client: APIClient
) -> None:
    load_pack(pack_dict())
    response = token_client.post(
        "/api/v1/evaluate",
        {
            "procedure": "demo-appeal",
            "department": "57",
            "as_of": "2026-01-10",
            "events": [{"type": "decision", "date": "2025-12-14", "outcome": "refused"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["court"]["name"] == "Court of Metz"
    assert [d["due"] for d in body["deadlines"]] == ["2026-02-16"]
    listing = token_client.get("/api/v1/packs").json()["packs"]
    assert {p["key"] for p in listing} == {"asylum-reexamination", "demo-appeal"}


def test_each_pack_accepts_only_its_own_event_types(
    asylum_pack: object, token_client: APIClient
) -> None:
    load_pack(pack_dict())
    response = token_client.post(
        "/api/v1/evaluate",
        {
            "procedure": "demo-appeal",
            "department": "57",
            "events": [{"type": "registration", "date": "2025-12-14"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "events[0].type"
