"""Rules are data: a published change to a record changes the next evaluation, with no restart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework.test import APIClient

from rules.models import DeadlineRule, DeadlineRuleVersion, LookupRow, PackVersion
from rules.packstore import copy_as_draft
from tests.conftest import Amend

CASE = {
    "procedure": "asylum-reexamination",
    "department": "88",
    "as_of": "2026-05-10",
    "events": [
        {"type": "prefecture_presentation", "date": "2026-04-02"},
        {"type": "registration", "date": "2026-04-07"},
    ],
}


def deadline(client: APIClient, key: str, case: dict[str, Any] = CASE) -> dict[str, Any]:
    response = client.post("/api/v1/evaluate", case, format="json")
    assert response.status_code == 200, response.json()
    return next(d for d in response.json()["deadlines"] if d["key"] == key)


def draft_version(draft: PackVersion, rule_key: str, **filters: Any) -> DeadlineRuleVersion:
    return DeadlineRuleVersion.objects.get(rule__key=rule_key, rule__pack_version=draft, **filters)


def test_changing_8_days_to_10_changes_the_next_evaluation(
    asylum_pack: PackVersion, token_client: APIClient, amend: Amend
) -> None:
    assert deadline(token_client, "ofpra_submission")["due"] == "2026-04-15"

    def change(draft: PackVersion) -> None:
        version = draft_version(draft, "ofpra_submission", effective_from=dt.date(2021, 5, 1))
        version.offset = 10
        version.save()

    amend(asylum_pack, change)
    changed = deadline(token_client, "ofpra_submission")
    assert changed["due"] == "2026-04-17"
    assert changed["explanation"].startswith("10 days after registration")


def test_changing_the_vosges_row_changes_the_competent_prefecture_and_its_calendar(
    asylum_pack: PackVersion, token_client: APIClient, amend: Amend
) -> None:
    response = token_client.post("/api/v1/evaluate", CASE, format="json").json()
    assert response["competent_prefecture"]["department"] == "57"
    # Thursday 2 April 2026, in Metz: Good Friday (3) and Easter Monday (6) are holidays, so the
    # 3 working days are 7, 8 and 9 April.
    assert deadline(token_client, "registration")["due"] == "2026-04-09"

    def change(draft: PackVersion) -> None:
        row = LookupRow.objects.get(
            table_version__table__key="competent_prefectures",
            key="88",
            table_version__table__pack_version=draft,
        )
        row.value, row.label = "54", "Préfecture de Meurthe-et-Moselle (Nancy)"
        row.save()

    amend(asylum_pack, change)

    response = token_client.post("/api/v1/evaluate", CASE, format="json").json()
    assert response["competent_prefecture"] == {
        "department": "54",
        "name": "Préfecture de Meurthe-et-Moselle (Nancy)",
        "confidence": "certain",
    }
    # Nancy uses the national calendar: Good Friday is a working day there (3, 7 and 8 April).
    assert deadline(token_client, "registration")["due"] == "2026-04-08"


def test_a_new_rule_version_applies_only_to_triggers_from_its_start(
    asylum_pack: PackVersion, token_client: APIClient, amend: Amend
) -> None:
    def change(draft: PackVersion) -> None:
        current = draft_version(draft, "ofpra_submission", effective_from=dt.date(2021, 5, 1))
        current.effective_to = dt.date(2026, 4, 30)
        current.save()
        DeadlineRuleVersion.objects.create(
            rule=current.rule,
            version=3,
            effective_from=dt.date(2026, 5, 1),
            legal_basis="CESEDA R531-36 (hypothetical amendment)",
            source_title="test",
            confidence="unsure",
            trigger_event="registration",
            offset=15,
            completed_by="ofpra_submission",
        )

    amend(asylum_pack, change)
    old_case = CASE
    new_case = {
        **CASE,
        "as_of": "2026-06-01",
        "events": [{"type": "registration", "date": "2026-05-04"}],
    }
    old = deadline(token_client, "ofpra_submission", old_case)
    new = deadline(token_client, "ofpra_submission", new_case)
    assert (old["due"], old["rule"]["version"]) == ("2026-04-15", 2)
    assert (new["due"], new["rule"]["version"], new["rule"]["confidence"]) == (
        "2026-05-19",
        3,
        "unsure",
    )


def test_a_deleted_deadline_rule_disappears_from_results(
    asylum_pack: PackVersion, token_client: APIClient, amend: Amend
) -> None:
    def change(draft: PackVersion) -> None:
        DeadlineRule.objects.get(pack_version=draft, key="ofpra_submission").delete()

    amend(asylum_pack, change)
    response = token_client.post("/api/v1/evaluate", CASE, format="json").json()
    assert "ofpra_submission" not in {d["key"] for d in response["deadlines"]}


def test_every_change_to_a_record_gives_its_pack_version_a_new_revision(
    asylum_pack: PackVersion,
) -> None:
    draft = copy_as_draft(asylum_pack)
    before = PackVersion.objects.get(pk=draft.pk).revision
    row = LookupRow.objects.filter(table_version__table__pack_version=draft).first()
    assert row is not None
    row.label = "changed"
    row.save()
    assert PackVersion.objects.get(pk=draft.pk).revision != before
