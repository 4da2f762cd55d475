"""A re-evaluation chunk reads facts as tuples and writes in bulk statements, yet stores exactly
what evaluating each open case through cases/actions.py stores: the same deadline rows (new,
changed, unchanged with the new version's stamp, gone), the same history rows, the same case
results and next due date; and a DeadlineMove for each deadline whose date or status moved."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.forms.models import model_to_dict

from cases import actions, reevaluation
from cases.models import Case, Deadline, DeadlineMove, Organisation
from rules.models import PackVersion
from rules.services import today
from tests.cases.personas import import_timeline
from tests.cases.workbench import draft_with_ofpra_days, publish
from tests.rules.test_random_timelines import generate_cases

REASON = "Décret 2026-125: 12 days to send the request"


def _cases(org: Organisation, carla: User, pack: PackVersion) -> list[Case]:
    """Random timelines; two in three evaluated with their events (their rows exist), the
    others imported with their events, never evaluated (the chunk creates their rows)."""
    cases = []
    for n, request in enumerate(generate_cases(count=36, seed=23)):
        case = import_timeline(org, carla, pack, f"W-{n}", request)
        if n % 3:
            actions.evaluate_and_store(case, user=carla, reason="facts", run_hooks=False)
        else:
            Case.objects.filter(pk=case.pk).update(evaluated_pack_version=None)
        cases.append(case)
    return cases


def _stored() -> dict[str, Any]:
    """What the database holds, without row ids and times (sequences are not rolled back)."""
    cases = {
        pk: rest
        for pk, *rest in Case.objects.values_list(
            "pk",
            "state",
            "next_due",
            "evaluation",
            "case_warnings",
            "evaluation_errors",
            "evaluated_pack_version_id",
            "evaluated_revision",
        )
    }
    deadlines = {}
    for deadline in Deadline.objects.all():
        row = model_to_dict(deadline)
        row.pop("id")
        row.update(
            {
                name: getattr(deadline, name)
                for name in ("organisation_id", "case_open", "case_reference", "assigned_to_id")
            }
        )
        deadlines[deadline.case_id, deadline.key] = row
    history = sorted(
        (
            tuple(
                (name, value)
                for name, value in sorted(values.items())
                if name not in ("id", "history_id", "history_date")
            )
            for values in Deadline.history.values()
        ),
        key=repr,
    )
    return {"cases": cases, "deadlines": deadlines, "history": history}


def _today(deadlines: Any) -> dict[tuple[int, str], tuple[dt.date | None, str]]:
    day = today()
    return {(d.case_id, d.key): (d.due, d.status_on(day)) for d in deadlines}


def test_a_chunk_stores_what_evaluating_each_open_case_through_the_actions_stores(
    asylum_pack: PackVersion, org_a: Organisation, carla: User, sofia: User
) -> None:
    cases = _cases(org_a, carla, asylum_pack)
    # A row the rules no longer produce (a deadline rule since removed): both ways delete it.
    stray = Deadline.objects.filter(case=cases[1]).first()
    assert stray is not None
    stray.pk, stray.key = None, "withdrawn_rule"
    stray.save()
    Case.objects.filter(pk=cases[4].pk).update(state=Case.State.CLOSED)
    Case.objects.filter(pk=cases[5].pk).update(department="999")  # refused by the rules
    draft = draft_with_ofpra_days(asylum_pack, 12)
    publish(draft, reason=REASON, user=sofia, hooks=False)
    open_cases = [c for c in cases if c.pk != cases[4].pk]
    before = _today(Deadline.objects.filter(case__in=open_cases))

    point = transaction.savepoint()
    run = reevaluation.start_run(draft.pk, chunk_size=10)
    for chunk in run.chunks.order_by("number"):
        assert reevaluation.apply_chunk(chunk.pk) == "applied"
    run.refresh_from_db()
    bulk = _stored()
    moves = sorted(
        DeadlineMove.objects.filter(run=run).values_list(
            "case_id", "key", "old_due", "new_due", "old_status", "new_status"
        )
    )
    after = _today(Deadline.objects.filter(case__in=open_cases))
    transaction.savepoint_rollback(point)

    refused = 0
    for case in Case.objects.filter(pk__in=[c.pk for c in open_cases]):
        try:
            actions.evaluate_and_store(case, user=sofia, reason=run.reason, run_hooks=False)
        except actions.CaseRefused:
            refused += 1
    one_by_one = _stored()

    assert bulk == one_by_one
    assert (run.state, run.done_cases, run.failed_cases, refused) == ("done", 35, 1, 1)
    # Each kind of write was there: new rows, changed rows and a gone row (history rows with
    # the publisher and the publication's reason), and rows the new version gives again as
    # they were, left with the version that wrote them.
    by_run = [
        dict(row) for row in bulk["history"] if dict(row)["history_change_reason"] == run.reason
    ]
    assert {row["history_type"] for row in by_run} == {"+", "~", "-"}
    assert {row["history_user_id"] for row in by_run} == {sofia.pk}
    assert "withdrawn_rule" not in {key for _, key in bulk["deadlines"]}
    evaluated = {c.pk for c in open_cases} - {cases[5].pk}
    written = {(row["case_id"], row["key"]) for row in by_run}
    kept = [key for key in bulk["deadlines"] if key[0] in evaluated and key not in written]
    assert kept
    assert {bulk["deadlines"][key]["pack_version_ref"] for key in kept} == {asylum_pack.pk}
    assert {
        bulk["deadlines"][key]["pack_version_ref"] for key in written if key in bulk["deadlines"]
    } == {draft.pk}
    # A move for each deadline whose date or status today changed, with both sides.
    nothing = (None, "")
    expected = []
    for case_id, key in sorted(before.keys() | after.keys()):
        old_due, old_status = before.get((case_id, key), nothing)
        new_due, new_status = after.get((case_id, key), nothing)
        if (old_due, old_status) != (new_due, new_status):
            expected.append((case_id, key, old_due, new_due, old_status, new_status))
    assert moves == expected
    assert run.changed_cases == len({move[0] for move in moves}) > 0
