"""A law change re-evaluates only the open cases it can reach; the others get the new version's
stamp without an evaluation, and the stored results are those a full run would store."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from cases import actions, reevaluation
from cases.models import Case, Deadline, Organisation
from cases.reach import reach
from rules.models import DeadlineRuleVersion, EventType, PackVersion
from rules.packstore import copy_as_draft, definition
from tests.cases.personas import import_timeline, make_case
from tests.cases.workbench import publish
from tests.rules.test_random_timelines import generate_cases

REASON = "Décret 2026-124"


def draft_moving(published: PackVersion, rule_key: str, days: int = 3) -> PackVersion:
    """A draft where every version of one deadline rule gives `days` more."""
    draft = copy_as_draft(published)
    for version in DeadlineRuleVersion.objects.filter(rule__pack_version=draft, rule__key=rule_key):
        version.offset += days
        version.save()
    return draft


def apply_run(version: PackVersion) -> reevaluation.ReevaluationRun:
    run = reevaluation.start_run(version.pk, chunk_size=7)
    for chunk in run.chunks.order_by("number"):
        assert reevaluation.apply_chunk(chunk.pk) == "applied"
    run.refresh_from_db()
    return run


def test_a_change_to_a_rule_few_cases_trigger_updates_those_and_only_stamps_the_others(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    start = [
        ("prefecture_presentation", dt.date(2026, 4, 2)),
        ("registration", dt.date(2026, 4, 8)),
        ("ofpra_submission", dt.date(2026, 4, 12)),
    ]
    incomplete = [("ofpra_incomplete_notice", dt.date(2026, 4, 20))]
    reached = [make_case(org_a, carla, asylum_pack, events=start + incomplete) for _ in range(2)]
    untouched = [make_case(org_a, carla, asylum_pack, events=start) for _ in range(3)]
    due_before = {
        d.pk: d.due for d in Deadline.objects.filter(key="file_completion") if d.due is not None
    }
    rows_before = {
        case.pk: list(Deadline.objects.filter(case=case).order_by("key").values("pk", "due"))
        for case in untouched
    }
    history_before = Deadline.history.count()
    draft = draft_moving(asylum_pack, "file_completion")
    publish(draft, reason=REASON, hooks=False)

    run = apply_run(draft)

    assert (run.state, run.done_cases, run.changed_cases) == ("done", 5, 2)
    for case in reached:
        deadline = Deadline.objects.get(case=case, key="file_completion")
        assert deadline.due == due_before[deadline.pk] + dt.timedelta(days=3)
        assert deadline.history.latest().history_change_reason.endswith(REASON)
    # Two history rows: the moved deadlines; nothing for the cases the change cannot reach.
    assert Deadline.history.count() == history_before + 2
    for case in untouched:
        case.refresh_from_db()
        rows = list(Deadline.objects.filter(case=case).order_by("key").values("pk", "due"))
        assert rows == rows_before[case.pk]
        # Their rows keep the version that wrote their values (nothing was written to them).
        assert set(
            Deadline.objects.filter(case=case).values_list("pack_version_ref_id", flat=True)
        ) == {asylum_pack.pk}
        assert (case.evaluated_pack_version_id, case.evaluated_revision) == (
            draft.pk,
            PackVersion.objects.get(pk=draft.pk).revision,
        )
        for language in actions.site_languages():
            assert actions.stored_result(case, language)["rule_pack"]["version"] == draft.number


def test_a_change_outside_the_deadline_rules_reaches_every_case(
    asylum_pack: PackVersion,
) -> None:
    draft = copy_as_draft(asylum_pack)
    event_type = EventType.objects.get(pack_version=draft, code="cnda_decision")
    event_type.label = "CNDA ruling"
    event_type.save()
    assert reach(definition(asylum_pack), definition(draft)) is None


def test_a_new_review_horizon_reaches_every_case(asylum_pack: PackVersion) -> None:
    # The review-horizon warning compares dates with reviewed_until: moving it changes warnings.
    draft = copy_as_draft(asylum_pack)
    draft.reviewed_until = dt.date(2026, 12, 31)
    draft.save()
    assert definition(draft).reviewed_until != definition(asylum_pack).reviewed_until
    assert reach(definition(asylum_pack), definition(draft)) is None


def test_a_deadline_rule_change_reaches_the_cases_with_its_trigger_events(
    asylum_pack: PackVersion,
) -> None:
    old = definition(asylum_pack)
    assert reach(old, definition(draft_moving(asylum_pack, "file_completion"))) == frozenset(
        {"ofpra_incomplete_notice"}
    )
    # Triggered by a milestone: the events that reach it (its fallback event, and the triggers
    # of the deadline it is deemed from).
    assert reach(old, definition(draft_moving(asylum_pack, "legal_aid_request"))) == frozenset(
        {"decision_made_available", "decision_notified"}
    )
    assert reach(old, old) == frozenset()


def stored() -> dict[str, Any]:
    """What a re-evaluation stores, without row ids and times."""
    cases = {
        pk: rest
        for pk, *rest in Case.objects.values_list(
            "pk",
            "evaluation",
            "evaluation_errors",
            "evaluated_pack_version_id",
            "evaluated_revision",
        )
    }
    deadlines: dict[tuple[Any, Any], dict[str, Any]] = {}
    for values in Deadline.objects.values():
        row = dict(values)
        for name in ("id", "created_at", "updated_at"):
            row.pop(name, None)
        deadlines[row.pop("case_id"), row.pop("key")] = row
    moves = sorted(
        reevaluation.DeadlineMove.objects.values_list(
            "case_id", "key", "old_due", "new_due", "old_status", "new_status"
        )
    )
    return {
        "cases": cases,
        "deadlines": deadlines,
        "moves": moves,
        "history": sorted(
            Deadline.history.values_list("case_id", "key", "due", "history_change_reason")
        ),
    }


@pytest.mark.parametrize(
    "rule_key",
    [
        "file_completion",
        "decision_consultation",
        "legal_aid_request",
        "cnda_decision",
        "registration",
    ],
)
def test_a_narrowed_run_stores_what_a_full_run_stores(
    asylum_pack: PackVersion, org_a: Organisation, carla: User, rule_key: str
) -> None:
    for n, request in enumerate(generate_cases(count=30, seed=11)):
        case = import_timeline(org_a, carla, asylum_pack, f"P-{n}", request)
        actions.evaluate_and_store(case, user=carla, reason="facts", run_hooks=False)
    draft = draft_moving(asylum_pack, rule_key, days=5)
    publish(draft, reason=REASON, hooks=False)

    locked = list(
        Case.objects.order_by("pk").values_list(
            "pk", "evaluated_pack_version_id", "evaluated_revision", "evaluation_errors"
        )
    )
    published = (draft.pk, PackVersion.objects.get(pk=draft.pk).revision)
    evaluated, skipped = reevaluation._narrow(locked, published)
    assert evaluated
    assert skipped or rule_key == "registration"  # every case has that rule's trigger

    point = transaction.savepoint()
    narrowed_run = apply_run(draft)
    narrowed = stored()
    transaction.savepoint_rollback(point)
    reevaluation.NARROW = False
    try:
        full_run = apply_run(draft)
    finally:
        reevaluation.NARROW = True
    full = stored()

    assert narrowed == full
    assert (narrowed_run.done_cases, narrowed_run.changed_cases, narrowed_run.failed_cases) == (
        full_run.done_cases,
        full_run.changed_cases,
        full_run.failed_cases,
    )
