"""A re-evaluation rewrites in place the deadline rows whose words alone changed (PostgreSQL's HOT
updates: no index takes a new entry when no indexed column changes), so it leaves their
`updated_at` alone: the frequent alert planner, which looks for rows written since its last run,
sees the rows whose dates or status moved, and the calendar feed's last-modified reads the case's
evaluation time."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import reevaluation
from cases.models import Case, Deadline, Membership, Organisation
from notifications.planner import changed_since
from rules.models import DeadlineRuleVersion, PackVersion
from rules.packstore import copy_as_draft
from tests.cases.personas import make_case
from tests.cases.test_reevaluation_narrowing import draft_moving
from tests.cases.workbench import publish

EVENTS = [
    ("prefecture_presentation", dt.date(2026, 4, 2)),
    ("registration", dt.date(2026, 4, 8)),
]
BASIS = "CESEDA art. L. 531-42 (benchmark wording)"


def publish_new_basis(published: PackVersion) -> PackVersion:
    """A law change that rewrites the OFPRA-submission rows' legal basis, not their dates."""
    draft = copy_as_draft(published)
    for version in DeadlineRuleVersion.objects.filter(
        rule__pack_version=draft, rule__key="ofpra_submission"
    ):
        version.legal_basis = BASIS
        version.save()
    return publish(draft, reason="new wording", hooks=False)


def apply_run(version: PackVersion) -> None:
    run = reevaluation.start_run(version.pk)
    for chunk in run.chunks.order_by("number"):
        assert reevaluation.apply_chunk(chunk.pk) == "applied"


def _written_long_ago(case: Case) -> dt.datetime:
    long_ago = timezone.now() - dt.timedelta(days=2)
    Case.objects.filter(pk=case.pk).update(updated_at=long_ago, evaluated_at=long_ago)
    Deadline.objects.filter(case=case).update(updated_at=long_ago)
    return long_ago


def test_a_run_that_rewrites_words_only_leaves_the_rows_time_and_the_planner_alone(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(org_a, carla, asylum_pack, events=EVENTS)
    long_ago = _written_long_ago(case)
    before = timezone.now()

    apply_run(publish_new_basis(asylum_pack))

    row = Deadline.objects.get(case=case, key="ofpra_submission")
    assert row.legal_basis == BASIS
    assert row.updated_at == long_ago  # rewritten in place
    assert changed_since(before) == []  # nothing an alert is planned from has moved


def test_the_planner_sees_the_cases_whose_dates_a_run_moved(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(org_a, carla, asylum_pack, events=EVENTS)
    _written_long_ago(case)
    due = Deadline.objects.get(case=case, key="ofpra_submission").due
    assert due is not None
    before = timezone.now()
    draft = draft_moving(asylum_pack, "ofpra_submission", days=2)
    publish(draft, reason="two more days", hooks=False)

    apply_run(draft)

    row = Deadline.objects.get(case=case, key="ofpra_submission")
    assert row.due == due + dt.timedelta(days=2)
    assert row.updated_at >= before
    assert changed_since(before) == [case.pk]


def test_the_calendar_feed_says_the_event_changed_when_a_run_rewrote_it(
    client: Client, asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(org_a, carla, asylum_pack, events=EVENTS)
    long_ago = _written_long_ago(case)
    before = timezone.now()

    apply_run(publish_new_basis(asylum_pack))

    token = Membership.objects.get(user=carla).feed_token
    response = client.get(reverse("calendar-feed", args=[token]))
    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = [
        e
        for e in calendar.walk("VEVENT")
        if str(e["UID"]).endswith("-ofpra_submission@delais-asile")
    ]
    assert BASIS in str(event["DESCRIPTION"])
    modified = event.decoded("LAST-MODIFIED")
    assert modified >= before.replace(microsecond=0) > long_ago  # iCalendar keeps seconds


@pytest.mark.skipif(connection.vendor != "postgresql", reason="HOT updates are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_rows_whose_dates_stay_are_updated_in_place(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    for _ in range(3):
        make_case(org_a, carla, asylum_pack, events=EVENTS)
    version = publish_new_basis(asylum_pack)
    # The old versions of the rows, left by the cases' own writes, freed as autovacuum would.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM cases_deadline")

    def counts() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_stat_get_xact_tuples_updated('cases_deadline'::regclass), "
                "pg_stat_get_xact_tuples_hot_updated('cases_deadline'::regclass)"
            )
            updated, hot = cursor.fetchone()
        return updated, hot

    # In one transaction: its counters are not flushed (and reset) between the two readings.
    with transaction.atomic():
        updated_before, hot_before = counts()
        apply_run(version)
        updated, hot = counts()

    assert Deadline.objects.filter(legal_basis=BASIS).count() == 3
    # Most rows the run rewrote stayed on their page with no new index entry (none did while
    # the run set updated_at). Not all: a page's room (fillfactor 80) holds about one new
    # version of a ~1.5 kB row until the old one is pruned, after the run's transaction.
    rewritten, in_place = updated - updated_before, hot - hot_before
    assert rewritten >= 3
    assert in_place > rewritten / 2
