"""A re-evaluation records a move from or to any deadline status, the longest included
("possibly_open", "possibly_met"): the move's status columns once held 10 characters, and on
PostgreSQL such a chunk failed whole and was retried forever, its cases never re-evaluated."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User

from cases.models import Deadline, DeadlineMove, Organisation
from notifications.models import RecomputeNotice
from notifications.recompute import render_notice
from rules.models import PackVersion
from tests.cases.personas import make_case
from tests.cases.test_reevaluation_narrowing import apply_run, draft_moving

# The file was due on Saturday 23 May 2026 (4 days after the notice of 19 May); the limit may
# be extended to the next working day, Tuesday 26 May (Monday 25 May is Whit Monday), and the
# file was completed on the 25th: possibly met.
EVENTS = [
    ("registration", dt.date(2026, 5, 16)),
    ("ofpra_submission", dt.date(2026, 5, 18)),
    ("ofpra_incomplete_notice", dt.date(2026, 5, 19)),
    ("ofpra_file_completed", dt.date(2026, 5, 25)),
]


def test_a_possibly_met_step_the_new_law_makes_met_is_recorded_as_a_move(
    shipped_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(org_a, carla, shipped_pack, events=EVENTS)
    before = Deadline.objects.get(case=case, key="file_completion")
    assert (before.status, before.due) == ("possibly_met", dt.date(2026, 5, 23))
    draft = draft_moving(shipped_pack, "file_completion", days=3)
    # Put in force directly: the pack's scenarios (rightly) refuse this made-up change.
    PackVersion.objects.filter(pk=shipped_pack.pk).update(status=PackVersion.Status.RETIRED)
    draft.status = PackVersion.Status.PUBLISHED
    draft.save()

    run = apply_run(draft)

    assert (run.state, run.done_cases, run.changed_cases, run.failed_cases) == ("done", 1, 1, 0)
    after = Deadline.objects.get(case=case, key="file_completion")
    assert (after.status, after.due) == ("met", dt.date(2026, 5, 26))
    move = DeadlineMove.objects.get(run=run, case=case, key="file_completion")
    assert (move.old_status, move.new_status) == ("possibly_met", "met")
    assert (move.old_due, move.new_due) == (dt.date(2026, 5, 23), dt.date(2026, 5, 26))

    # The caseworker's notice says the status moved too, in their language.
    for language, expected in (
        ("fr", "(Dans le délai seulement si l'échéance est prorogée → Respecté)"),
        ("en", "(In time only if the limit is extended → Met)"),
    ):
        _, body = render_notice(RecomputeNotice(run=run, recipient=carla, language=language))
        assert expected in body, body
