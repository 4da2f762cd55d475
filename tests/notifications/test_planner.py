"""The planner turns stored deadlines and the alert policy (rule data) into alert rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from cases import actions
from cases.models import Case, Deadline, Organisation
from notifications.models import Notification
from notifications.planner import (
    CaseFacts,
    DeadlineFacts,
    Timing,
    plan_cases,
    run_planner,
    wanted_alerts,
)
from rules.engine.calendars import get_calendar
from rules.engine.pack import AlertRule
from rules.models import AlertPolicy, PackVersion
from tests.conftest import Amend
from tests.notifications.conftest import DUE, KEY, NOW, make_deadline_case, paris

Kind = Notification.Kind
Status = Notification.Status


def rows(case: Case, **filters: Any) -> list[tuple[Any, ...]]:
    return list(
        Notification.objects.filter(case=case, **filters)
        .order_by("audience", "channel", "kind", "-lead_days")
        .values_list("audience", "channel", "kind", "lead_days", "send_after", "status")
    )


def test_it_plans_the_caseworker_reminders_at_each_lead_time_and_when_overdue(
    deadline_case: Case,
) -> None:
    counts = plan_cases([deadline_case.pk], now=NOW)
    assert counts.created == 5
    assert rows(deadline_case) == [
        ("caseworker", "email", "overdue", None, paris(2026, 3, 13), "planned"),
        ("caseworker", "email", "reminder", 5, paris(2026, 3, 7), "planned"),
        ("caseworker", "email", "reminder", 2, paris(2026, 3, 10), "planned"),
        ("caseworker", "email", "reminder", 1, paris(2026, 3, 11), "planned"),
        ("caseworker", "email", "reminder", 0, paris(2026, 3, 12), "planned"),
    ]
    alert = Notification.objects.filter(case=deadline_case).first()
    assert alert is not None
    assert alert.recipient_user == deadline_case.assigned_to
    assert alert.language == "fr"
    assert alert.deadline is not None
    assert alert.deadline.key == KEY


def test_planning_twice_creates_nothing_new(deadline_case: Case) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    before = list(Notification.objects.order_by("pk").values_list("pk", "send_after"))
    again = plan_cases([deadline_case.pk], now=NOW)
    assert (again.created, again.revived, again.cancelled, again.rescheduled) == (0, 0, 0, 0)
    assert list(Notification.objects.order_by("pk").values_list("pk", "send_after")) == before


def test_the_applicant_gets_only_the_channels_they_agreed_to_in_their_language(
    deadline_case: Case,
) -> None:
    Case.objects.filter(pk=deadline_case.pk).update(
        sms_consent=True, email_consent=False, preferred_language="en"
    )
    plan_cases([deadline_case.pk], now=NOW)
    assert rows(deadline_case, audience="applicant") == [
        ("applicant", "sms", "reminder", 2, paris(2026, 3, 10), "planned"),
        ("applicant", "sms", "reminder", 0, paris(2026, 3, 12), "planned"),
    ]
    assert set(
        Notification.objects.filter(audience="applicant").values_list("language", flat=True)
    ) == {"en"}


def test_without_consent_the_applicant_gets_nothing(deadline_case: Case) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    assert not Notification.objects.filter(audience="applicant").exists()


def test_sms_are_planned_between_8_and_20_paris_time(deadline_case: Case, settings: Any) -> None:
    settings.ALERT_SEND_HOUR = 6
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True)
    plan_cases([deadline_case.pk], now=NOW)
    sms_times = Notification.objects.filter(channel="sms").values_list("send_after", flat=True)
    assert sorted(sms_times) == [paris(2026, 3, 10, 8), paris(2026, 3, 12, 8)]
    # Email is not bound by the SMS hours.
    assert Notification.objects.filter(channel="email", lead_days=0).get().send_after == paris(
        2026, 3, 12, 6
    )


def test_reminders_whose_day_has_passed_are_not_created_late(deadline_case: Case) -> None:
    plan_cases([deadline_case.pk], now=paris(2026, 3, 11, 10))
    leads = Notification.objects.filter(kind=Kind.REMINDER).values_list("lead_days", flat=True)
    assert set(leads) == {0, 1}  # 5 and 2 days before are past: no flood of late reminders


def test_a_stale_reminder_already_planned_is_kept_not_cancelled(deadline_case: Case) -> None:
    """A reminder the workers could not send on its day is late, not obsolete."""
    plan_cases([deadline_case.pk], now=NOW)
    plan_cases([deadline_case.pk], now=paris(2026, 3, 11, 10))
    assert not Notification.objects.filter(status=Status.CANCELLED).exists()


def test_a_moved_deadline_cancels_its_planned_alerts_and_plans_the_new_date(
    deadline_case: Case,
) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    already_sent = Notification.objects.get(lead_days=5)
    Notification.objects.filter(pk=already_sent.pk).update(
        status=Status.SENT, sent_at=paris(2026, 3, 7)
    )
    Deadline.objects.filter(case=deadline_case).update(due=dt.date(2026, 3, 16))

    counts = plan_cases([deadline_case.pk], now=paris(2026, 3, 8, 9))
    assert counts.cancelled == 4
    assert counts.cancelled_by_reason == {"deadline moved": 4}
    assert set(Notification.objects.filter(due=DUE).values_list("status", flat=True)) == {
        Status.SENT,
        Status.CANCELLED,
    }
    already_sent.refresh_from_db()
    assert already_sent.status == Status.SENT  # what went out stays on record
    new = Notification.objects.filter(due=dt.date(2026, 3, 16), status=Status.PLANNED)
    assert sorted(new.values_list("send_after", flat=True)) == [
        paris(2026, 3, 11),
        paris(2026, 3, 14),
        paris(2026, 3, 15),
        paris(2026, 3, 16),
        paris(2026, 3, 17),
    ]


def test_a_deadline_moved_back_revives_its_cancelled_alerts(deadline_case: Case) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    Deadline.objects.filter(case=deadline_case).update(due=dt.date(2026, 3, 16))
    plan_cases([deadline_case.pk], now=NOW)
    Deadline.objects.filter(case=deadline_case).update(due=DUE)
    counts = plan_cases([deadline_case.pk], now=NOW)
    assert counts.revived == 5
    assert Notification.objects.filter(due=DUE, status=Status.PLANNED).count() == 5
    assert Notification.objects.count() == 10


def test_a_met_deadline_cancels_what_is_planned(deadline_case: Case) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    Deadline.objects.filter(case=deadline_case).update(
        status="met", completed_on=dt.date(2026, 3, 5)
    )
    counts = plan_cases([deadline_case.pk], now=NOW)
    assert counts.cancelled_by_reason == {"deadline done": 5}


def test_a_removed_deadline_keeps_the_record_and_a_recreated_one_sends_nothing_twice(
    deadline_case: Case,
) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    Notification.objects.filter(lead_days=5).update(status=Status.SENT)
    Deadline.objects.filter(case=deadline_case).delete()
    counts = plan_cases([deadline_case.pk], now=paris(2026, 3, 8))
    assert counts.cancelled_by_reason == {"deadline removed": 4}
    assert Notification.objects.filter(deadline__isnull=True).count() == 5

    # The event is recorded again: the same deadline, the same date, a new row.
    Deadline.objects.create(
        case=deadline_case,
        key=KEY,
        label="Sending the request to OFPRA",
        due=DUE,
        status="open",
        trigger_type="registration",
        trigger_date=dt.date(2026, 3, 4),
        rule_version=2,
        confidence="certain",
        legal_basis="CESEDA R531-36",
        explanation="",
        pack_version=1,
    )
    counts = plan_cases([deadline_case.pk], now=paris(2026, 3, 8))
    assert (counts.created, counts.revived) == (0, 4)
    assert Notification.objects.filter(lead_days=5).get().status == Status.SENT
    assert Notification.objects.filter(deadline__isnull=True).count() == 1  # the sent one


def test_withdrawn_consent_cancels_and_renewed_consent_revives(deadline_case: Case) -> None:
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True)
    plan_cases([deadline_case.pk], now=NOW)
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=False)
    counts = plan_cases([deadline_case.pk], now=NOW)
    assert counts.cancelled_by_reason == {"consent withdrawn or policy changed": 2}
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True)
    assert plan_cases([deadline_case.pk], now=NOW).revived == 2


def test_a_reassigned_case_moves_the_caseworker_alerts(
    deadline_case: Case, org_a: Organisation, bruno: User
) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    Case.objects.filter(pk=deadline_case.pk).update(assigned_to=bruno)
    counts = plan_cases([deadline_case.pk], now=NOW)
    assert counts.cancelled == 5
    assert counts.created == 5
    assert set(
        Notification.objects.filter(status=Status.PLANNED).values_list(
            "recipient_user__username", flat=True
        )
    ) == {"bruno"}


def test_a_closed_case_gets_no_more_alerts(deadline_case: Case) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    Case.objects.filter(pk=deadline_case.pk).update(state="closed")
    assert plan_cases(None, now=NOW).cancelled_by_reason == {"case closed": 5}


def test_supervisors_hear_of_an_overdue_alert_unacknowledged_after_a_working_day(
    deadline_case: Case, supervisor: User
) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    assert not Notification.objects.filter(kind=Kind.ESCALATION).exists()
    # The overdue alert went out on Friday 13 March at 08:00.
    Notification.objects.filter(kind=Kind.OVERDUE).update(
        status=Status.SENT, sent_at=paris(2026, 3, 13, 8, 1)
    )
    plan_cases([deadline_case.pk], now=paris(2026, 3, 13, 8, 5))
    escalation = Notification.objects.get(kind=Kind.ESCALATION)
    assert (escalation.recipient_user, escalation.audience, escalation.channel) == (
        supervisor,
        "supervisor",
        "email",
    )
    assert escalation.send_after == paris(2026, 3, 16)  # Friday counted; Monday morning
    assert escalation.lead_days is None


def test_an_acknowledged_overdue_alert_is_not_escalated(
    deadline_case: Case, supervisor: User
) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    Notification.objects.filter(kind=Kind.OVERDUE).update(
        status=Status.SENT, sent_at=paris(2026, 3, 13, 8, 1)
    )
    plan_cases([deadline_case.pk], now=paris(2026, 3, 13, 9))
    Notification.objects.filter(kind=Kind.OVERDUE).update(acknowledged_at=paris(2026, 3, 13, 10))
    counts = plan_cases([deadline_case.pk], now=paris(2026, 3, 13, 11))
    assert counts.cancelled_by_reason == {"overdue alert acknowledged": 1}


def test_the_lead_times_come_from_the_rule_data(
    deadline_case: Case, asylum_pack: PackVersion, amend: Amend
) -> None:
    def change(draft: PackVersion) -> None:
        policy = AlertPolicy.objects.get(
            rule__pack_version=draft, rule__key=KEY, audience="caseworker"
        )
        policy.lead_days = "3"
        policy.overdue = False
        policy.save()

    amend(asylum_pack, change)
    plan_cases([deadline_case.pk], now=NOW)
    assert rows(deadline_case) == [
        ("caseworker", "email", "reminder", 3, paris(2026, 3, 9), "planned")
    ]


def test_recording_an_event_plans_the_case_on_commit(
    asylum_pack: PackVersion,
    org_a: Organisation,
    caseworker: User,
    celery_eager: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """cases.actions -> after_deadlines_change -> plan_case_alerts, once the write commits."""
    case = make_deadline_case(org_a, caseworker, asylum_pack, deadlines={})
    with django_capture_on_commit_callbacks(execute=True):
        actions.record_event(case, user=caseworker, type="registration", date=timezone.localdate())
    assert case.deadlines.filter(key=KEY).exists()
    assert Notification.objects.filter(
        case=case, deadline_key=KEY, status__in=[Status.PLANNED, Status.SENT]
    ).exists()


def test_a_broker_that_is_down_does_not_fail_the_caseworkers_save(
    deadline_case: Case, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from kombu.exceptions import OperationalError

    from notifications import tasks

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.plan_case_alerts, "delay", refuse)
    tasks.schedule_case_planning(deadline_case.pk)
    assert "the periodic planner will plan it" in caplog.text


def test_a_planner_run_is_recorded_for_the_health_check(
    deadline_case: Case, celery_eager: None
) -> None:
    run = run_planner(now=NOW, dispatch=False)
    assert (run.cases, run.created, run.enqueued) == (1, 5, 0)
    assert run.finished_at is not None
    assert not run.error


# --- the pure part ----------------------------------------------------------------------------

TIMING = Timing(
    send_hour=8, sms_start_hour=8, sms_end_hour=20, staff_language="fr", calendar=get_calendar("FR")
)


def facts(**changes: Any) -> CaseFacts:
    values: dict[str, Any] = {
        "id": 1,
        "open": True,
        "assigned_to_id": 7,
        "preferred_language": "ps",
        "sms_consent": True,
        "email_consent": True,
        "supervisor_ids": (8, 9),
        "deadlines": (DeadlineFacts(id=3, key="k", due=DUE, status="open", completed_on=None),),
    }
    values.update(changes)
    return CaseFacts(**values)


def test_wanted_alerts_follow_any_policy_the_rules_give() -> None:
    policy = {
        "k": (
            AlertRule(
                audience="applicant", channels=("sms", "email"), lead_days=(1,), overdue=True
            ),
        )
    }
    wanted = wanted_alerts(facts(), policy, {}, NOW, TIMING)
    assert sorted(
        (w.channel, w.kind, w.lead_days, w.language, w.recipient_key) for w in wanted
    ) == [
        ("email", "overdue", None, "ps", "applicant"),
        ("email", "reminder", 1, "ps", "applicant"),
        ("sms", "overdue", None, "ps", "applicant"),
        ("sms", "reminder", 1, "ps", "applicant"),
    ]


def test_without_a_caseworker_overdue_alert_escalation_counts_from_the_missed_day() -> None:
    policy = {
        "k": (
            AlertRule(
                audience="supervisor", channels=("email",), overdue=True, after_working_days=2
            ),
        )
    }
    assert wanted_alerts(facts(), policy, {}, NOW, TIMING) == []  # not overdue yet
    wanted = wanted_alerts(facts(), policy, {}, paris(2026, 3, 13, 9), TIMING)
    # Friday 13 counts, Monday 16 counts: the supervisors (8 and 9) hear on Tuesday 17.
    assert [(w.recipient_key, w.send_after) for w in wanted] == [
        ("user:8", paris(2026, 3, 17)),
        ("user:9", paris(2026, 3, 17)),
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"open": False},
        {
            "deadlines": (
                DeadlineFacts(
                    id=3, key="k", due=DUE, status="met", completed_on=dt.date(2026, 3, 1)
                ),
            )
        },
        {
            "deadlines": (
                DeadlineFacts(id=3, key="k", due=None, status="suspended", completed_on=None),
            )
        },
    ],
)
def test_nothing_is_wanted_for_a_closed_case_or_a_deadline_met_or_suspended(
    changes: dict[str, Any],
) -> None:
    policy = {"k": (AlertRule(audience="caseworker", lead_days=(0,), overdue=True),)}
    assert wanted_alerts(facts(**changes), policy, {}, NOW, TIMING) == []


def test_a_step_done_late_is_missed_but_needs_no_more_alerts(deadline_case: Case) -> None:
    plan_cases([deadline_case.pk], now=NOW)
    Deadline.objects.filter(case=deadline_case).update(
        status="missed", completed_on=dt.date(2026, 3, 14)
    )
    counts = plan_cases([deadline_case.pk], now=NOW)
    assert counts.cancelled_by_reason == {"deadline done": 5}


def test_a_failed_overdue_alert_still_escalates(deadline_case: Case, supervisor: User) -> None:
    """The caseworker could not be told (no address...): all the more reason to tell others."""
    plan_cases([deadline_case.pk], now=NOW)
    Notification.objects.filter(kind=Kind.OVERDUE).update(
        status=Status.FAILED, claimed_at=paris(2026, 3, 16, 8, 1)
    )
    plan_cases([deadline_case.pk], now=paris(2026, 3, 16, 9))
    assert Notification.objects.get(kind=Kind.ESCALATION).send_after == paris(2026, 3, 17)
