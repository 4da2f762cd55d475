"""The demo data `make run` loads: idempotent, written through the actions, DEBUG only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import Settings

from cases.models import Case, Membership
from rules.models import PackVersion


def test_it_creates_an_organisation_two_people_and_cases_once(
    settings: Settings, asylum_pack: PackVersion
) -> None:
    settings.DEBUG = True
    call_command("ensure_demo_user")
    call_command("seed_demo")
    demo = Membership.objects.get(user__username="demo")
    camille = Membership.objects.get(user__username="camille")
    assert demo.is_supervisor
    assert not camille.is_supervisor
    assert demo.organisation == camille.organisation
    cases = Case.objects.filter(organisation=demo.organisation)
    assert cases.count() == 6
    assert all(case.evaluation for case in cases)
    assert cases.filter(deadlines__isnull=False).distinct().count() == 6
    first = cases.get(reference="DEMO-2026-001").events.earliest("date")
    assert first.history.earliest().history_user == demo.user

    call_command("seed_demo")
    assert Case.objects.count() == 6
    assert get_user_model().objects.filter(username="camille").count() == 1


def test_it_refuses_to_run_outside_debug(settings: Settings, asylum_pack: PackVersion) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")


def test_the_demo_cases_show_the_published_shipped_version(
    settings: Settings, shipped_pack: PackVersion
) -> None:
    """`make run` publishes the shipped version 2 before seeding: the demo shows its results."""
    settings.DEBUG = True
    call_command("ensure_demo_user")
    call_command("seed_demo")
    cases = Case.objects.filter(reference__startswith="DEMO-")
    assert cases.count() == 6
    assert {case.evaluated_pack_version_id for case in cases} == {shipped_pack.pk}
