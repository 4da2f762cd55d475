"""The audit trail of views has no foreign key constraints in the database (a CSV export writes
thousands of rows at once); deleting a case or a user through the app still takes its views with
it or empties their user, as the constraints' ON DELETE would."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db.models import F
from django.test import Client
from django.urls import reverse

from cases.models import Case, CaseView, Organisation
from cases.privacy import record_views_of
from rules.models import PackVersion
from tests.cases.personas import make_case, make_member


@pytest.fixture
def viewed(case_a: Case, carla: User, sofia: User, client: Client) -> Case:
    client.force_login(sofia)
    assert client.get(reverse("case-detail", args=[case_a.pk])).status_code == 200
    record_views_of(carla, Case.objects.filter(pk=case_a.pk).values(case_id=F("pk")), "csv_export")
    assert CaseView.objects.filter(case=case_a).count() == 2
    return case_a


def test_deleting_a_case_deletes_its_views_and_only_its(
    viewed: Case, org_a: Organisation, carla: User, asylum_pack: PackVersion
) -> None:
    other = make_case(org_a, carla, asylum_pack)
    CaseView.objects.create(case=other, user=carla, through="page")
    viewed.delete()
    assert not CaseView.objects.filter(case_id=viewed.pk).exists()
    assert CaseView.objects.filter(case=other).count() == 1


def test_deleting_a_user_keeps_their_views_without_them(viewed: Case, org_a: Organisation) -> None:
    leaving = make_member("leaving", org_a)
    CaseView.objects.create(case=viewed, user=leaving, through="page")
    leaving.delete()
    assert CaseView.objects.filter(case=viewed).count() == 3
    assert CaseView.objects.filter(case=viewed, user__isnull=True).count() == 1
