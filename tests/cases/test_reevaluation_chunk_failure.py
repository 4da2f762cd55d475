"""A chunk the database refuses leaves nothing written and says why on its row (the admin's
run page), then applies once the fault is gone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from cases import reevaluation
from cases.models import Deadline, DeadlineMove, Organisation, ReevaluationChunk
from rules.models import PackVersion
from tests.cases.personas import make_case
from tests.cases.test_reevaluation_narrowing import draft_moving
from tests.cases.workbench import publish

EVENTS = [
    ("prefecture_presentation", dt.date(2026, 4, 2)),
    ("registration", dt.date(2026, 4, 8)),
]


def refuse_moves(on: bool) -> None:
    """A real fault of the database: a trigger refusing the moves' rows."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if on:
                cursor.execute(
                    "CREATE FUNCTION refuse_move() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'no space left for moves'; END $$"
                )
                cursor.execute(
                    "CREATE TRIGGER refuse_move BEFORE INSERT ON cases_deadlinemove "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_move()"
                )
            else:
                cursor.execute("DROP TRIGGER refuse_move ON cases_deadlinemove")
                cursor.execute("DROP FUNCTION refuse_move()")
        elif on:
            cursor.execute(
                "CREATE TRIGGER refuse_move BEFORE INSERT ON cases_deadlinemove "
                "BEGIN SELECT RAISE(ABORT, 'no space left for moves'); END"
            )
        else:
            cursor.execute("DROP TRIGGER refuse_move")


def test_a_refused_chunk_writes_nothing_says_why_and_applies_later(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(org_a, carla, asylum_pack, events=EVENTS)
    due_before = Deadline.objects.get(case=case, key="ofpra_submission").due
    assert due_before is not None
    draft = draft_moving(asylum_pack, "ofpra_submission", days=2)
    publish(draft, reason="two more days", hooks=False)
    run = reevaluation.start_run(draft.pk)
    (chunk,) = run.chunks.all()

    refuse_moves(True)
    with pytest.raises(Exception, match="no space left for moves"):
        reevaluation.apply_chunk(chunk.pk)
    chunk = ReevaluationChunk.objects.get(pk=chunk.pk)
    assert chunk.applied_at is None
    assert chunk.attempts == 1
    assert len(chunk.errors) == 1
    assert "no space left for moves" in chunk.errors[0]["failure"]
    assert Deadline.objects.get(case=case, key="ofpra_submission").due == due_before
    assert not DeadlineMove.objects.exists()

    refuse_moves(False)
    # Held until its lease passes; then taken again.
    assert reevaluation.apply_chunk(chunk.pk) == "skipped"
    later = timezone.now() + dt.timedelta(hours=1)
    assert reevaluation.apply_chunk(chunk.pk, now=later) == "applied"
    chunk = ReevaluationChunk.objects.get(pk=chunk.pk)
    assert (chunk.attempts, chunk.errors) == (2, [])
    assert Deadline.objects.get(case=case, key="ofpra_submission").due == due_before + dt.timedelta(
        days=2
    )
    assert DeadlineMove.objects.filter(case=case, key="ofpra_submission").count() == 1
