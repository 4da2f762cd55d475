"""What the lists read without joining every case stays in step with the case on every write.

Deadline rows carry their case's organisation, open-ness, caseworker and reference, and a case its
next due date (cases/models.py); the dashboard and the case list read them from indexes. Every way
a case or its deadlines change keeps them right: opening, events, closing and reopening,
reassigning, renaming, a re-evaluation after publishing, a row written outside cases/actions.py,
and the migration that filled them for existing rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Min

from cases import actions, reevaluation
from cases.dashboard import PENDING
from cases.models import Case, Deadline, Organisation
from rules.models import PackVersion
from tests.cases.personas import make_case
from tests.cases.workbench import draft_with_ofpra_days, publish


def soonest_pending(case: Case) -> dt.date | None:
    """The next due date straight from the deadline rows (what Case.next_due must say)."""
    found: dt.date | None = Deadline.objects.filter(
        case=case, status__in=PENDING, completed_on__isnull=True, due__isnull=False
    ).aggregate(due=Min("due"))["due"]
    return found


def assert_in_step(case: Case) -> None:
    case.refresh_from_db()
    rows = list(Deadline.objects.filter(case=case))
    assert rows
    for row in rows:
        assert (row.organisation_id, row.case_open, row.assigned_to_id, row.case_reference) == (
            case.organisation_id,
            case.state == Case.State.OPEN,
            case.assigned_to_id,
            case.reference,
        ), row.key
    assert case.next_due == soonest_pending(case)


def test_deadline_rows_follow_their_case_through_every_caseworkers_write(
    asylum_pack: PackVersion, org_a: Organisation, carla: User, sofia: User
) -> None:
    case = make_case(
        org_a,
        carla,
        asylum_pack,
        reference="R-1",
        events=[("prefecture_presentation", dt.date(2026, 4, 2))],
    )
    assert_in_step(case)
    before = case.next_due
    event = actions.record_event(case, user=carla, type="registration", date=dt.date(2026, 4, 8))
    assert_in_step(case)
    assert case.next_due != before  # the registration opened the next step
    actions.update_event(event, user=carla, date=dt.date(2026, 4, 9))
    assert_in_step(case)
    actions.update_case(case, user=sofia, assigned_to=sofia, reference="R-1-bis")
    assert_in_step(case)
    actions.update_case(case, user=sofia, state=Case.State.CLOSED)
    assert_in_step(case)
    assert not Deadline.objects.filter(case=case, case_open=True).exists()
    actions.update_case(case, user=sofia, state=Case.State.OPEN)
    assert_in_step(case)
    actions.delete_event(event, user=carla)
    assert_in_step(case)


def test_a_case_saved_outside_the_actions_still_carries_its_values_to_its_rows(
    asylum_pack: PackVersion, org_a: Organisation, carla: User, sofia: User
) -> None:
    case = make_case(org_a, carla, asylum_pack, events=[("registration", dt.date(2026, 4, 8))])
    case.assigned_to = sofia  # as the admin's form saves it
    case.state = Case.State.CLOSED
    case.save()
    assert_in_step(case)
    row = Deadline.objects.filter(case=case).first()
    assert row is not None
    row.pk = None
    row.key = "written_by_hand"
    row.organisation_id = row.assigned_to_id = None
    row.save()
    assert_in_step(case)


def test_a_reevaluation_after_publishing_moves_the_next_due_date_with_the_deadlines(
    asylum_pack: PackVersion, org_a: Organisation, carla: User, sofia: User
) -> None:
    cases = [
        make_case(org_a, carla, asylum_pack, events=[("registration", dt.date(2026, 4, 8 + n))])
        for n in range(3)
    ]
    before = {
        case.pk: Deadline.objects.get(case=case, key="ofpra_submission").due for case in cases
    }
    draft = draft_with_ofpra_days(asylum_pack, 30)
    publish(draft, reason="30 days to send the request", user=sofia, hooks=False)
    run = reevaluation.start_run(draft.pk)
    for chunk in run.chunks.all():
        assert reevaluation.apply_chunk(chunk.pk) == "applied"
    for case in cases:
        moved = Deadline.objects.get(case=case, key="ofpra_submission")
        assert moved.due != before[case.pk]
        assert_in_step(case)


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_copies_of_existing_rows(asylum_pack: PackVersion) -> None:
    before = [("cases", "0008_merge_planning_indexes")]  # before 0009_deadline_list_copies
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("cases")
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    old_case: Any = apps.get_model("cases", "Case")
    old_deadline: Any = apps.get_model("cases", "Deadline")
    organisation = apps.get_model("cases", "Organisation").objects.create(name="Cimade Metz")
    user = apps.get_model("auth", "User").objects.create(username="carla")
    cases = [
        old_case.objects.create(
            organisation=organisation,
            reference=f"R-{state}",
            applicant_name="x",
            department="54",
            assigned_to=user,
            procedure_id=asylum_pack.pack_id,
            state=state,
        )
        for state in ("open", "closed")
    ]
    values = {
        "label": "x",
        "trigger_type": "registration",
        "trigger_date": dt.date(2026, 4, 8),
        "rule_version": 1,
        "confidence": "certain",
        "legal_basis": "x",
        "explanation": "x",
        "pack_version": 1,
    }
    for case in cases:
        old_deadline.objects.create(
            case=case, key="a", due=dt.date(2026, 5, 1), status="open", **values
        )
        old_deadline.objects.create(
            case=case, key="b", due=dt.date(2026, 4, 1), status="met", **values
        )
        old_deadline.objects.create(case=case, key="c", due=None, status="suspended", **values)

    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    for case in Case.objects.filter(pk__in=[c.pk for c in cases]):
        assert_in_step(case)
        assert case.next_due == dt.date(2026, 5, 1)
