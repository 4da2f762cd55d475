"""The issue's story end to end: a law change reaches every open case it concerns, and no other.

Legal staff add a 10-day OFPRA-submission version for registrations from 5 April 2026 in a draft;
a shipped scenario that expects the old value blocks it until it is updated; the impact names
exactly the open case it moves; publishing alone is refused, a second person publishes; the
re-evaluation moves that case on its page, the dashboard, the CSV and the feed, and the case
registered before 5 April keeps its date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from cases.impact import changes_of, run_to_end, start_impact
from cases.models import Case, Deadline, Organisation
from cases.roles import LEGAL_STAFF
from rules import scenarios, workbench
from rules.models import DeadlineRuleVersion, PackVersion, Scenario
from rules.packstore import copy_as_draft
from rules.services import evaluate_request
from tests.cases.personas import PASSWORD, make_case

REASON = "Décret n° 2026-123 : 10 jours pour envoyer la demande"


def legal_staff(username: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=LEGAL_STAFF))
    user.user_permissions.add(Permission.objects.get(codename="publish_packversion"))
    return User.objects.get(pk=user.pk)


def registered_on(
    org: Organisation, carla: User, pack: PackVersion, day: dt.date, ref: str
) -> Case:
    return make_case(
        org,
        carla,
        pack,
        reference=ref,
        events=[("prefecture_presentation", day - dt.timedelta(days=6)), ("registration", day)],
    )


def ofpra_due(case: Case) -> dt.date | None:
    return Deadline.objects.get(case=case, key="ofpra_submission").due


@pytest.mark.django_db
def test_a_dated_law_change_reaches_the_open_cases_it_concerns_and_no_other(
    asylum_pack: PackVersion,
    org_a: Organisation,
    carla: User,
    celery_eager: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    scenarios.load_shipped_scenarios(asylum_pack.pack)
    moves = registered_on(org_a, carla, asylum_pack, dt.date(2026, 4, 8), "MOVES-1")
    keeps = registered_on(org_a, carla, asylum_pack, dt.date(2026, 4, 1), "KEEPS-1")
    assert (ofpra_due(moves), ofpra_due(keeps)) == (dt.date(2026, 4, 16), dt.date(2026, 4, 9))
    lea, paul = legal_staff("lea"), legal_staff("paul")

    # A draft with the new version from 5 April, in one save that ends the old one on the 4th.
    draft = copy_as_draft(asylum_pack)
    in_force = DeadlineRuleVersion.objects.filter(
        rule__pack_version=draft, rule__key="ofpra_submission"
    ).latest("version")
    workbench.add_version(
        in_force,
        effective_from=dt.date(2026, 4, 5),
        changes={"offset": 10, "legal_basis": in_force.legal_basis},
        user=lea,
        reason=REASON[:100],
    )
    in_force.refresh_from_db()
    assert in_force.effective_to == dt.date(2026, 4, 4)

    # A scenario that expects the old value blocks the draft, in a sentence.
    failing = scenarios.failures(draft)
    assert any("ofpra_submission: expected" in f and "the draft gives" in f for f in failing)
    with pytest.raises(workbench.PublishRefused):
        workbench.publish(draft, user=paul, reason=REASON)

    # Legal staff update the scenarios that expected 8 days from a registration after 5 April.
    for scenario_run in scenarios.run_scenarios(draft):
        if scenario_run.passed:
            continue
        scenario = Scenario.objects.get(pk=scenario_run.scenario_id)
        result = evaluate_request(scenario.request, pack_version_id=draft.pk)
        scenario.expect = scenarios.expect_from_result(result, draft)
        scenario.save()
    assert scenarios.failures(draft) == []

    # The impact names exactly the open case that moves, old and new side by side.
    run = start_impact(draft.pk, user=lea)
    run_to_end(run.pk)
    moved = {(c.case_id, c.key, c.old_due, c.new_due) for c in changes_of(run)}
    assert moved == {(moves.pk, "ofpra_submission", dt.date(2026, 4, 16), dt.date(2026, 4, 18))}

    # Four eyes: the last editor alone is refused; a second person publishes.
    with pytest.raises(workbench.PublishRefused) as refused:
        workbench.publish(draft, user=lea, reason=REASON)
    assert any("another person" in s for s in refused.value.sentences), refused.value.sentences
    with django_capture_on_commit_callbacks(execute=True):
        workbench.publish(draft, user=paul, reason=REASON)

    # Every open case followed: the one registered after 5 April moved, the other kept its date.
    assert (ofpra_due(moves), ofpra_due(keeps)) == (dt.date(2026, 4, 18), dt.date(2026, 4, 9))
    client = Client()
    client.force_login(carla)
    with translation.override("fr"):  # the pages speak French by default
        new = date_format(dt.date(2026, 4, 18), "DATE_FORMAT")
        old = date_format(dt.date(2026, 4, 16), "DATE_FORMAT")
    page = client.get(reverse("case-detail", args=[moves.pk])).content.decode()
    assert new in page
    assert old not in page
    dashboard = client.get(reverse("dashboard") + "?q=MOVES-1").content.decode()
    assert new in dashboard
    csv = client.get(reverse("deadlines-csv")).getvalue().decode("utf-8-sig")
    assert "2026-04-18" in csv or "18/04/2026" in csv or new in csv
    feed = client.get(reverse("calendar-feed", args=[carla.membership.feed_token])).content.decode()
    assert "20260418" in feed
    assert "20260416" not in feed
