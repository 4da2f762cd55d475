"""Which alerts should exist, and making the table say so.

`wanted_alerts` is pure: from one case's stored deadlines, its procedure's alert policy (rule
data, `rules.services.alert_rules`) and the caseworker's overdue alerts already sent, it returns
every alert that should exist. `plan_cases` compares that with the table, case by case under a
row lock: it creates what is missing (a unique key makes a second run, or two runs at once,
create nothing more), revives cancelled rows that apply again, and cancels planned rows whose
deadline moved, was met or disappeared, whose recipient changed or whose consent was
withdrawn. Rows being sent, sent, failed or acknowledged are never touched here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.models import Case, Deadline, Membership
from rules.engine.calendars import Calendar
from rules.engine.pack import AlertRule
from rules.services import alert_rules, working_calendar

from . import schedule
from .models import NO_LEAD_DAYS, Notification, PlannerRun

logger = logging.getLogger(__name__)

Kind = Notification.Kind
Audience = Notification.Audience
Channel = Notification.Channel
Status = Notification.Status

# possibly_open (past a due date that may be extended) is pending like missed: alerts keep
# counting to `due`, never to the possible extension.
PENDING_STATUSES = (Deadline.Status.OPEN, Deadline.Status.MISSED, Deadline.Status.POSSIBLY_OPEN)
CHUNK = 200
APPLICANT = "applicant"

# (deadline key, due, kind, lead days or NO_LEAD_DAYS, channel, recipient key), within a case.
AlertKey = tuple[str, dt.date, str, int, str, str]


def user_key(user_id: int) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True)
class DeadlineFacts:
    id: int
    key: str
    due: dt.date | None
    status: str
    completed_on: dt.date | None

    @property
    def pending(self) -> bool:
        return (
            self.status in PENDING_STATUSES and self.completed_on is None and self.due is not None
        )


@dataclass(frozen=True)
class CaseFacts:
    id: int
    open: bool
    assigned_to_id: int
    preferred_language: str
    sms_consent: bool
    email_consent: bool
    supervisor_ids: tuple[int, ...]
    deadlines: tuple[DeadlineFacts, ...]


@dataclass(frozen=True)
class OverdueAlert:
    """The caseworker's overdue alert about one due date, as far as escalation cares."""

    told_at: dt.datetime | None  # when it was sent (or finally failed); None: not yet
    acknowledged: bool


@dataclass(frozen=True)
class Wanted:
    deadline_id: int
    deadline_key: str
    due: dt.date
    kind: str
    audience: str
    channel: str
    lead_days: int | None
    recipient_key: str
    user_id: int | None
    language: str
    send_after: dt.datetime
    # False for a reminder whose day has passed: kept if it exists, never created late.
    may_create: bool = True

    @property
    def key(self) -> AlertKey:
        lead = NO_LEAD_DAYS if self.lead_days is None else self.lead_days
        return (self.deadline_key, self.due, self.kind, lead, self.channel, self.recipient_key)


@dataclass(frozen=True)
class Timing:
    send_hour: int
    sms_start_hour: int
    sms_end_hour: int
    staff_language: str
    # Working days for escalation: the procedure's own calendar (its pack's holiday country and
    # weekend), set per procedure by the planner.
    calendar: Calendar | None = None

    @classmethod
    def from_settings(cls) -> Timing:
        return cls(
            send_hour=settings.ALERT_SEND_HOUR,
            sms_start_hour=settings.ALERT_SMS_START_HOUR,
            sms_end_hour=settings.ALERT_SMS_END_HOUR,
            staff_language=settings.LANGUAGE_CODE,
        )

    def for_channel(self, channel: str, moment: dt.datetime) -> dt.datetime:
        if channel == Channel.SMS:
            return schedule.clamp_to_sms_window(moment, self.sms_start_hour, self.sms_end_hour)
        return moment


def wanted_alerts(
    case: CaseFacts,
    policy: Mapping[str, Sequence[AlertRule]],
    overdue_alerts: Mapping[tuple[str, dt.date], Sequence[OverdueAlert]],
    now: dt.datetime,
    timing: Timing,
) -> list[Wanted]:
    """Every alert that should exist for a case now (pure: no database)."""
    if not case.open:
        return []
    today = schedule.local_date(now)
    wanted: list[Wanted] = []
    for deadline in case.deadlines:
        if not deadline.pending or deadline.due is None:
            continue
        rules = policy.get(deadline.key, ())
        for rule in rules:
            for audience, recipient_key, user_id, language, channels in _recipients(
                case, rule, timing
            ):
                common: dict[str, Any] = {
                    "deadline_id": deadline.id,
                    "deadline_key": deadline.key,
                    "due": deadline.due,
                    "audience": audience,
                    "recipient_key": recipient_key,
                    "user_id": user_id,
                    "language": language,
                }
                for channel in channels:
                    if audience == Audience.SUPERVISOR:
                        escalate_at = _escalation_time(
                            deadline.key, deadline.due, rules, rule, overdue_alerts, now, timing
                        )
                        if escalate_at is not None:
                            wanted.append(
                                Wanted(
                                    **common,
                                    kind=Kind.ESCALATION,
                                    channel=channel,
                                    lead_days=None,
                                    send_after=timing.for_channel(channel, escalate_at),
                                )
                            )
                        continue
                    for lead in rule.lead_days:
                        moment = schedule.reminder_time(deadline.due, lead, timing.send_hour)
                        wanted.append(
                            Wanted(
                                **common,
                                kind=Kind.REMINDER,
                                channel=channel,
                                lead_days=lead,
                                send_after=timing.for_channel(channel, moment),
                                may_create=schedule.local_date(moment) >= today,
                            )
                        )
                    if rule.overdue:
                        moment = schedule.overdue_time(deadline.due, timing.send_hour)
                        wanted.append(
                            Wanted(
                                **common,
                                kind=Kind.OVERDUE,
                                channel=channel,
                                lead_days=None,
                                send_after=timing.for_channel(channel, moment),
                            )
                        )
    return wanted


def _recipients(
    case: CaseFacts, rule: AlertRule, timing: Timing
) -> Iterator[tuple[str, str, int | None, str, list[str]]]:
    channels = list(rule.channels)
    if rule.audience == Audience.CASEWORKER:
        yield (
            Audience.CASEWORKER,
            user_key(case.assigned_to_id),
            case.assigned_to_id,
            timing.staff_language,
            channels,
        )
    elif rule.audience == Audience.SUPERVISOR:
        for supervisor_id in case.supervisor_ids:
            yield (
                Audience.SUPERVISOR,
                user_key(supervisor_id),
                supervisor_id,
                timing.staff_language,
                channels,
            )
    elif rule.audience == Audience.APPLICANT:
        # Only the channels the applicant agreed to.
        consented = [
            c
            for c in channels
            if (c == Channel.SMS and case.sms_consent)
            or (c == Channel.EMAIL and case.email_consent)
        ]
        if consented:
            yield (Audience.APPLICANT, APPLICANT, None, case.preferred_language, consented)


def _escalation_time(
    key: str,
    due: dt.date,
    rules: Sequence[AlertRule],
    rule: AlertRule,
    overdue_alerts: Mapping[tuple[str, dt.date], Sequence[OverdueAlert]],
    now: dt.datetime,
    timing: Timing,
) -> dt.datetime | None:
    """When supervisors are told about this overdue deadline; None: not (or not yet)."""
    if not rule.overdue or rule.after_working_days < 1:
        return None
    caseworker_told = any(r.audience == Audience.CASEWORKER and r.overdue for r in rules)
    if caseworker_told:
        alerts = overdue_alerts.get((key, due), ())
        if any(a.acknowledged for a in alerts):
            return None
        told = [a.told_at for a in alerts if a.told_at is not None]
        if not told:
            return None
        anchor = min(told)
    else:
        # No caseworker alert to acknowledge: count from the first day the deadline is missed.
        anchor = schedule.overdue_time(due, timing.send_hour)
        if anchor > now:
            return None
    if timing.calendar is None:
        raise ValueError("escalation needs the procedure's working-day calendar")
    return schedule.escalation_time(
        anchor, rule.after_working_days, timing.calendar, timing.send_hour
    )


@dataclass
class PlanCounts:
    cases: int = 0
    created: int = 0
    revived: int = 0
    rescheduled: int = 0
    cancelled: int = 0
    cancelled_by_reason: dict[str, int] = field(default_factory=dict)

    def add(self, other: PlanCounts) -> None:
        self.cases += other.cases
        self.created += other.created
        self.revived += other.revived
        self.rescheduled += other.rescheduled
        self.cancelled += other.cancelled
        for reason, count in other.cancelled_by_reason.items():
            self.cancelled_by_reason[reason] = self.cancelled_by_reason.get(reason, 0) + count


def cases_to_plan() -> list[int]:
    """Open cases with a pending deadline, and any case that still has planned alerts."""
    pending = Deadline.objects.filter(
        case__state=Case.State.OPEN,
        status__in=PENDING_STATUSES,
        completed_on__isnull=True,
        due__isnull=False,
    ).values_list("case_id", flat=True)
    planned = Notification.objects.filter(status=Status.PLANNED).values_list("case_id", flat=True)
    return sorted(set(pending) | set(planned))


def changed_since(since: dt.datetime) -> list[int]:
    """Cases whose alerts may need planning because something changed since `since`: the case
    or one of its deadlines was written, or a caseworker's overdue alert was sent, failed or
    acknowledged (supervisors' escalation counts from it). Each part is an indexed range.

    A re-evaluation sets `updated_at` on the deadline rows whose dates or status moved, not on
    those whose words alone changed (cases/reevaluation.py): nothing alerts are planned from.

    The on-commit planning of cases/actions.py normally did it already; this catches a lost
    message within one interval, and the daily sweep (`cases_to_plan`) catches everything else.
    """
    overdue = Notification.objects.filter(kind=Kind.OVERDUE, audience=Audience.CASEWORKER)
    parts = [
        Case.objects.filter(updated_at__gte=since).values_list("pk", flat=True),
        Deadline.objects.filter(updated_at__gte=since).values_list("case_id", flat=True),
        overdue.filter(sent_at__gte=since).values_list("case_id", flat=True),
        overdue.filter(claimed_at__gte=since, status=Status.FAILED).values_list(
            "case_id", flat=True
        ),
        overdue.filter(acknowledged_at__gte=since).values_list("case_id", flat=True),
    ]
    return sorted({pk for part in parts for pk in part})


def plan_cases(
    case_ids: Iterable[int] | None = None,
    *,
    now: dt.datetime | None = None,
    timing: Timing | None = None,
) -> PlanCounts:
    """Bring the alerts of these cases (None: every case concerned) in line with the rules."""
    now = now or timezone.now()
    timing = timing or Timing.from_settings()
    ids = sorted(set(case_ids)) if case_ids is not None else cases_to_plan()
    policies: dict[str, dict[str, tuple[AlertRule, ...]]] = {}
    counts = PlanCounts()
    for start in range(0, len(ids), CHUNK):
        counts.add(_plan_chunk(ids[start : start + CHUNK], now, timing, policies))
    return counts


@transaction.atomic
def _plan_chunk(
    ids: list[int],
    now: dt.datetime,
    timing: Timing,
    policies: dict[str, dict[str, tuple[AlertRule, ...]]],
) -> PlanCounts:
    # The case rows stay locked until this commits: a caseworker's write to one of them waits,
    # then its on-commit hook plans the case again from what it wrote. Two planners lock in id
    # order, so they queue instead of deadlocking. (SQLite ignores the lock: it writes one
    # transaction at a time anyway.)
    cases = list(
        Case.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("procedure")
        .order_by("pk")
    )
    if not cases:
        return PlanCounts()
    found = [c.pk for c in cases]
    deadlines: dict[int, list[DeadlineFacts]] = defaultdict(list)
    for d in Deadline.objects.filter(case_id__in=found).values(
        "id", "case_id", "key", "due", "status", "completed_on"
    ):
        deadlines[d["case_id"]].append(
            DeadlineFacts(
                id=d["id"],
                key=d["key"],
                due=d["due"],
                status=d["status"],
                completed_on=d["completed_on"],
            )
        )
    supervisors: dict[int, list[int]] = defaultdict(list)
    for organisation_id, user_id in (
        Membership.objects.filter(
            organisation_id__in={c.organisation_id for c in cases},
            role=Membership.Role.SUPERVISOR,
            user__is_active=True,
        )
        .order_by("user_id")
        .values_list("organisation_id", "user_id")
    ):
        supervisors[organisation_id].append(user_id)

    existing: dict[int, dict[AlertKey, Mapping[str, Any]]] = defaultdict(dict)
    overdue: dict[int, dict[tuple[str, dt.date], list[OverdueAlert]]] = defaultdict(
        lambda: defaultdict(list)
    )
    row: Mapping[str, Any]
    for row in Notification.objects.filter(case_id__in=found).values(
        "id",
        "case_id",
        "deadline_id",
        "deadline_key",
        "due",
        "kind",
        "audience",
        "channel",
        "lead_days",
        "recipient_key",
        "status",
        "send_after",
        "sent_at",
        "claimed_at",
        "acknowledged_at",
    ):
        lead = NO_LEAD_DAYS if row["lead_days"] is None else row["lead_days"]
        key = (
            row["deadline_key"],
            row["due"],
            row["kind"],
            lead,
            row["channel"],
            row["recipient_key"],
        )
        existing[row["case_id"]][key] = row
        if row["kind"] == Kind.OVERDUE and row["audience"] == Audience.CASEWORKER:
            told_at = (
                row["sent_at"]
                if row["status"] == Status.SENT
                else row["claimed_at"]
                if row["status"] == Status.FAILED
                else None
            )
            overdue[row["case_id"]][(row["deadline_key"], row["due"])].append(
                OverdueAlert(told_at=told_at, acknowledged=row["acknowledged_at"] is not None)
            )

    counts = PlanCounts(cases=len(cases))
    calendars: dict[str, Timing] = {}
    to_create: list[Notification] = []
    revive: list[tuple[int, Wanted]] = []
    reschedule: list[tuple[int, Wanted]] = []
    cancel: dict[str, list[int]] = defaultdict(list)
    for case in cases:
        procedure = case.procedure.key
        if procedure not in policies:
            policies[procedure] = alert_rules(procedure)
        if procedure not in calendars:
            calendars[procedure] = dataclasses.replace(timing, calendar=working_calendar(procedure))
        facts = CaseFacts(
            id=case.pk,
            open=case.state == Case.State.OPEN,
            assigned_to_id=case.assigned_to_id,
            preferred_language=case.preferred_language,
            sms_consent=case.sms_consent,
            email_consent=case.email_consent,
            supervisor_ids=tuple(supervisors.get(case.organisation_id, ())),
            deadlines=tuple(deadlines.get(case.pk, ())),
        )
        wanted = {
            w.key: w
            for w in wanted_alerts(
                facts, policies[procedure], overdue.get(case.pk, {}), now, calendars[procedure]
            )
        }
        rows = existing.get(case.pk, {})
        for key, w in wanted.items():
            current = rows.get(key)
            if current is None:
                if w.may_create:
                    to_create.append(
                        Notification(
                            case_id=case.pk,
                            deadline_id=w.deadline_id,
                            deadline_key=w.deadline_key,
                            due=w.due,
                            kind=w.kind,
                            audience=w.audience,
                            channel=w.channel,
                            lead_days=w.lead_days,
                            recipient_key=w.recipient_key,
                            recipient_user_id=w.user_id,
                            language=w.language,
                            send_after=w.send_after,
                        )
                    )
            elif current["status"] == Status.CANCELLED and w.may_create:
                revive.append((current["id"], w))
            elif current["status"] == Status.PLANNED and (
                current["send_after"] != w.send_after or current["deadline_id"] != w.deadline_id
            ):
                reschedule.append((current["id"], w))
        for key, row in rows.items():
            if row["status"] == Status.PLANNED and key not in wanted:
                cancel[_cancel_reason(facts, row)].append(row["id"])

    if to_create:
        before = Notification.objects.filter(case_id__in=found).count()
        # ignore_conflicts: a concurrent planner may have created some of these a moment ago.
        Notification.objects.bulk_create(to_create, ignore_conflicts=True, batch_size=500)
        counts.created = Notification.objects.filter(case_id__in=found).count() - before
    for pk, w in revive:
        counts.revived += Notification.objects.filter(pk=pk, status=Status.CANCELLED).update(
            status=Status.PLANNED,
            send_after=w.send_after,
            deadline_id=w.deadline_id,
            recipient_user_id=w.user_id,
            attempts=0,
            cancelled_at=None,
            cancel_reason="",
            enqueued_at=None,
            claimed_at=None,
            last_error="",
            updated_at=now,
        )
    for pk, w in reschedule:
        counts.rescheduled += Notification.objects.filter(pk=pk, status=Status.PLANNED).update(
            send_after=w.send_after, deadline_id=w.deadline_id, enqueued_at=None, updated_at=now
        )
    for reason, pks in cancel.items():
        cancelled = Notification.objects.filter(pk__in=pks, status=Status.PLANNED).update(
            status=Status.CANCELLED, cancelled_at=now, cancel_reason=reason, updated_at=now
        )
        counts.cancelled += cancelled
        counts.cancelled_by_reason[reason] = cancelled
    return counts


def _cancel_reason(case: CaseFacts, row: Mapping[str, Any]) -> str:
    if not case.open:
        return "case closed"
    deadline = next((d for d in case.deadlines if d.key == row["deadline_key"]), None)
    if deadline is None:
        return "deadline removed"
    if not deadline.pending:
        return "deadline done"
    if deadline.due != row["due"]:
        return "deadline moved"
    if row["kind"] == Kind.ESCALATION:
        return "overdue alert acknowledged"
    if row["audience"] == Audience.APPLICANT:
        return "consent withdrawn or policy changed"
    return "recipient or alert policy changed"


def run_planner(
    *,
    now: dt.datetime | None = None,
    dispatch: bool = True,
    case_ids: Iterable[int] | None = None,
    incremental: bool = False,
) -> PlannerRun:
    """Plan every case (or these), queue what is due, and record the run for the health check.

    `incremental`: only the cases changed since the previous run started (`changed_since`, with
    a margin of ALERT_PLANNER_OVERLAP_MINUTES for transactions still open then): the frequent
    run, whose cost follows the changes, not the number of open cases.
    """
    from .dispatch import dispatch_due

    now = now or timezone.now()
    if incremental and case_ids is None:
        previous = (
            PlannerRun.objects.filter(finished_at__isnull=False, error="")
            .order_by("-started_at")
            .values_list("started_at", flat=True)
            .first()
        )
        # Never run before: everything, once.
        if previous is not None:
            margin = dt.timedelta(minutes=settings.ALERT_PLANNER_OVERLAP_MINUTES)
            case_ids = changed_since(min(previous, now) - margin)
    run = PlannerRun.objects.create(started_at=now)
    try:
        counts = plan_cases(case_ids, now=now)
        if dispatch:
            # On commit: a worker must see the rows it is sent (immediate outside a transaction).
            queued: list[int] = []
            transaction.on_commit(lambda: queued.append(dispatch_due(now=timezone.now())))
            run.enqueued = sum(queued)
    except Exception as error:
        run.error = f"{type(error).__name__}: {error}"[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["error", "finished_at"])
        raise
    run.cases, run.created, run.revived = counts.cases, counts.created, counts.revived
    run.cancelled = counts.cancelled
    run.finished_at = timezone.now()
    run.save(update_fields=["cases", "created", "revived", "cancelled", "enqueued", "finished_at"])
    # A week of runs is plenty for the health page and the admin.
    PlannerRun.objects.filter(started_at__lt=now - dt.timedelta(days=7)).delete()
    logger.info(
        "planner: %d cases, %d created, %d revived, %d cancelled, %d queued",
        run.cases,
        run.created,
        run.revived,
        run.cancelled,
        run.enqueued,
    )
    return run
