"""After publishing, every open case of the procedure follows: once, with the reason, alerts too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import reevaluation
from cases.history import recent_changes
from cases.models import Case, Deadline, Organisation, ReevaluationChunk, ReevaluationRun
from notifications.models import Notification
from notifications.planner import plan_cases
from rules.models import PackVersion
from rules.services import today
from tests.cases.personas import PASSWORD, make_case
from tests.cases.workbench import draft_with_ofpra_days, publish

REASON = "Décret 2026-123: 10 days to send the request"


def ofpra_due(case: Case) -> dt.date | None:
    return Deadline.objects.get(case=case, key="ofpra_submission").due


@pytest.fixture
def registered(asylum_pack: PackVersion, org_a: Organisation, carla: User) -> list[Case]:
    """Three open cases registered on 8 April 2026 (OFPRA submission due on the 16th)."""
    return [
        make_case(
            org_a,
            carla,
            asylum_pack,
            reference=f"R-{n}",
            events=[
                ("prefecture_presentation", dt.date(2026, 4, 2)),
                ("registration", dt.date(2026, 4, 8)),
            ],
        )
        for n in range(3)
    ]


def test_publishing_moves_every_open_case_and_records_the_publication_reason(
    asylum_pack: PackVersion,
    registered: list[Case],
    sofia: User,
    celery_eager: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    closed = registered[2]
    Case.objects.filter(pk=closed.pk).update(state=Case.State.CLOSED)
    assert ofpra_due(registered[0]) == dt.date(2026, 4, 16)
    draft = draft_with_ofpra_days(asylum_pack, 10)
    with django_capture_on_commit_callbacks(execute=True):
        publish(draft, reason=REASON, user=sofia)

    run = ReevaluationRun.objects.get(pack_version=draft)
    assert (run.state, run.total_cases, run.done_cases, run.changed_cases) == ("done", 2, 2, 2)
    for case in registered[:2]:
        deadline = Deadline.objects.get(case=case, key="ofpra_submission")
        assert deadline.due == dt.date(2026, 4, 18)
        assert deadline.pack_version_ref_id == draft.pk
        latest = deadline.history.latest()
        assert latest.history_change_reason == f"rule pack v{draft.number} published: {REASON}"
        assert latest.history_user == sofia  # who published
        case.refresh_from_db()
        assert case.evaluated_pack_version_id == draft.pk
    # The case's "changes" list says which deadline the publication moved, by whom and why.
    (moved,) = [c for c in recent_changes(registered[0], {}) if c.reason.startswith("rule pack")]
    assert (moved.who, moved.reason) == (sofia, f"rule pack v{draft.number} published: {REASON}")
    assert "18 avr. 2026" in moved.subject
    # A closed file keeps its dates.
    assert ofpra_due(closed) == dt.date(2026, 4, 16)
    # Deadlines that did not move get no history row from the publication.
    unmoved = Deadline.objects.get(case=registered[0], key="registration")
    assert not unmoved.history.filter(history_change_reason__startswith="rule pack").exists()


def test_a_chunk_is_applied_once_even_when_its_task_runs_again(
    asylum_pack: PackVersion, registered: list[Case]
) -> None:
    draft = draft_with_ofpra_days(asylum_pack, 10)
    publish(draft, reason=REASON, hooks=False)
    run = reevaluation.start_run(draft.pk, chunk_size=2)
    chunks = list(run.chunks.order_by("number"))
    assert [len(c.case_ids) for c in chunks] == [2, 1]
    assert [reevaluation.apply_chunk(c.pk) for c in chunks] == ["applied", "applied"]
    history_rows = Deadline.history.count()
    # The same messages delivered again (late acknowledgement after a crash): nothing happens.
    assert [reevaluation.apply_chunk(c.pk) for c in chunks] == ["skipped", "skipped"]
    later = timezone.now() + dt.timedelta(days=1)
    assert reevaluation.apply_chunk(chunks[0].pk, now=later) == "skipped"
    assert Deadline.history.count() == history_rows
    run.refresh_from_db()
    assert (run.state, run.done_cases, run.changed_cases) == ("done", 3, 3)
    assert run.moves.count() == 3
    # Starting the run again (the hook called twice) creates nothing more.
    assert reevaluation.start_run(draft.pk).pk == run.pk
    assert ReevaluationChunk.objects.filter(run=run).count() == 2


def test_a_chunk_held_by_a_dead_worker_is_taken_again_once_its_lease_has_passed(
    asylum_pack: PackVersion, registered: list[Case], settings: Any
) -> None:
    settings.REEVALUATION_LEASE_SECONDS = 60
    draft = draft_with_ofpra_days(asylum_pack, 10)
    publish(draft, reason=REASON, hooks=False)
    run = reevaluation.start_run(draft.pk)
    (chunk,) = run.chunks.all()
    now = timezone.now()
    reevaluation.mark_queued([chunk.pk], now)
    # A worker claims the chunk, then dies before its transaction commits.
    assert reevaluation.claim_chunk(chunk.pk, now)
    assert reevaluation.apply_chunk(chunk.pk, now=now) == "skipped"  # still held
    assert reevaluation.chunks_to_queue(now) == []
    later = now + dt.timedelta(seconds=61)
    assert reevaluation.chunks_to_queue(later) == [chunk.pk]
    assert reevaluation.apply_chunk(chunk.pk, now=later) == "applied"
    assert ofpra_due(registered[0]) == dt.date(2026, 4, 18)
    chunk.refresh_from_db()
    assert chunk.attempts == 2


def test_a_case_the_new_rules_refuse_keeps_its_dates_and_is_counted(
    asylum_pack: PackVersion, registered: list[Case]
) -> None:
    draft = draft_with_ofpra_days(asylum_pack, 10)
    publish(draft, reason=REASON, hooks=False)
    # The department is no longer accepted (a stand-in for any fact the new rules refuse).
    Case.objects.filter(pk=registered[0].pk).update(department="999")
    run = reevaluation.start_run(draft.pk)
    for chunk in run.chunks.all():
        reevaluation.apply_chunk(chunk.pk)
    run.refresh_from_db()
    assert (run.state, run.done_cases, run.failed_cases, run.changed_cases) == ("done", 3, 1, 2)
    assert ofpra_due(registered[0]) == dt.date(2026, 4, 16)
    assert run.chunks.get().errors[0]["case"] == registered[0].pk


def test_unsent_alerts_of_a_moved_deadline_are_withdrawn_and_the_new_date_gets_its_own(
    asylum_pack: PackVersion,
    org_a: Organisation,
    carla: User,
    celery_eager: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    registration = today() - dt.timedelta(days=1)
    case = make_case(
        org_a,
        carla,
        asylum_pack,
        events=[("prefecture_presentation", registration), ("registration", registration)],
    )
    plan_cases([case.pk])
    old_due = ofpra_due(case)
    assert old_due is not None
    assert Notification.objects.filter(
        case=case, deadline_key="ofpra_submission", due=old_due, status="planned"
    ).exists()

    draft = draft_with_ofpra_days(asylum_pack, 10)
    with django_capture_on_commit_callbacks(execute=True):
        publish(draft, reason=REASON)

    new_due = ofpra_due(case)
    assert new_due is not None
    assert old_due is not None
    assert new_due > old_due
    alerts = Notification.objects.filter(case=case, deadline_key="ofpra_submission")
    old = alerts.filter(due=old_due)
    assert old.exists()
    assert set(old.values_list("status", "cancel_reason")) == {("cancelled", "deadline moved")}
    assert alerts.filter(due=new_due, status="planned").exists()


def test_until_the_job_reaches_a_case_its_page_and_the_dashboard_say_it_is_being_recomputed(
    client: Client, asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    registration = today() - dt.timedelta(days=1)
    case = make_case(
        org_a,
        carla,
        asylum_pack,
        events=[("prefecture_presentation", registration), ("registration", registration)],
    )
    client.login(username=carla.username, password=PASSWORD)
    page, dashboard = reverse("case-detail", args=[case.pk]), reverse("dashboard")
    assert "being recomputed" not in client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    draft = draft_with_ofpra_days(asylum_pack, 10)
    publish(draft, reason=REASON, hooks=False)
    run = reevaluation.start_run(draft.pk)
    client.cookies["django_language"] = "en"
    assert "being recomputed" in client.get(page).content.decode()
    assert "being recomputed" in client.get(dashboard).content.decode()

    for chunk in run.chunks.all():
        reevaluation.apply_chunk(chunk.pk)
    assert "being recomputed" not in client.get(page).content.decode()
    assert "being recomputed" not in client.get(dashboard).content.decode()


def test_alerts_are_replanned_once_per_chunk_not_once_per_case(
    asylum_pack: PackVersion,
    registered: list[Case],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from cases import actions

    per_case: list[int] = []
    per_chunk: list[list[int]] = []
    monkeypatch.setattr(actions, "after_deadlines_change", [per_case.append])
    monkeypatch.setattr(actions, "after_many_deadlines_change", [per_chunk.append])
    draft = draft_with_ofpra_days(asylum_pack, 10)
    publish(draft, reason=REASON, hooks=False)
    run = reevaluation.start_run(draft.pk, chunk_size=2)
    with django_capture_on_commit_callbacks(execute=True):
        for chunk in run.chunks.order_by("number"):
            reevaluation.apply_chunk(chunk.pk)
    assert per_case == []
    assert per_chunk == [[registered[0].pk, registered[1].pk], [registered[2].pk]]
