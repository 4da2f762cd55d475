"""Publishing the shipped version 2 on a database where `make run` had published version 1.

The open cases follow, as after any publication: re-evaluated with version 2, a DeadlineMove
and a notice where a date moved, while a trigger dated before a new rule version keeps the
version the engine chooses for its date. The API's published evaluation then uses version 2.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from cases.models import Case, Deadline, DeadlineMove, Organisation, ReevaluationRun
from notifications.models import RecomputeNotice
from rules.models import PackVersion
from tests.cases.personas import make_case

# Mayotte (976): from 1 May 2021, 7 calendar days to send the request to OFPRA (pack v2,
# R591-12-1), 8 before in version 1. Registered Mon 4 May 2026: 12 May by v1, 11 May by v2.
MAYOTTE_2026 = [
    ("prefecture_presentation", dt.date(2026, 4, 24)),
    ("registration", dt.date(2026, 5, 4)),
]
# Registered before 1 May 2021: version 2's Mayotte rule version is not in force then.
MAYOTTE_2021 = [("registration", dt.date(2021, 4, 20))]


def ofpra_due(case: Case) -> dt.date | None:
    return Deadline.objects.get(case=case, key="ofpra_submission").due


def test_the_next_run_publishes_version_2_and_moves_the_open_cases_it_changes(
    asylum_pack: PackVersion,
    org_a: Organisation,
    carla: User,
    celery_eager: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    carla.email = "carla@cimade-metz.example.org"
    carla.save()
    recent = make_case(org_a, carla, asylum_pack, department="976", events=MAYOTTE_2026)
    older = make_case(org_a, carla, asylum_pack, department="976", events=MAYOTTE_2021)
    assert ofpra_due(recent) == dt.date(2026, 5, 12)
    assert ofpra_due(older) == dt.date(2021, 4, 28)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("loadrulepack", stdout=io.StringIO(), stderr=io.StringIO())

    v2 = PackVersion.objects.get(pack=asylum_pack.pack, status=PackVersion.Status.PUBLISHED)
    assert v2.number == 2
    run = ReevaluationRun.objects.get(pack_version=v2)
    assert (run.state, run.total_cases, run.done_cases) == ("done", 2, 2)
    assert ofpra_due(recent) == dt.date(2026, 5, 11)
    assert ofpra_due(older) == dt.date(2021, 4, 28)  # version 1's 8 days: trigger before 2021
    for case in (recent, older):
        case.refresh_from_db()
        assert case.evaluated_pack_version_id == v2.pk
    move = DeadlineMove.objects.get(run=run, case=recent, key="ofpra_submission")
    assert (move.old_due, move.new_due) == (dt.date(2026, 5, 12), dt.date(2026, 5, 11))
    assert not DeadlineMove.objects.filter(run=run, case=older, key="ofpra_submission").exists()
    # The history says why: the shipped file, not a person.
    latest = Deadline.objects.get(case=recent, key="ofpra_submission").history.latest()
    assert latest.history_user is None
    assert (latest.history_change_reason or "").startswith(
        "rule pack v2 published: shipped pack file rules/packs/asylum-reexamination/v2/"
    )
    # Carla is told which of her cases moved.
    assert RecomputeNotice.objects.filter(run=run, recipient=carla).exists()


def test_the_published_evaluation_over_the_api_uses_version_2(
    shipped_pack: PackVersion, token_client: APIClient
) -> None:
    request = {
        "procedure": "asylum-reexamination",
        "department": "976",
        "as_of": "2026-05-05",
        "events": [{"type": event, "date": day.isoformat()} for event, day in MAYOTTE_2026],
    }
    response = token_client.post(
        "/api/v1/evaluate", data=json.dumps(request), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["rule_pack"]["version"] == shipped_pack.number == 2
    ofpra = next(d for d in result["deadlines"] if d["key"] == "ofpra_submission")
    assert (ofpra["due"], ofpra["legal_basis"]) == ("2026-05-11", "CESEDA R591-12-1")
