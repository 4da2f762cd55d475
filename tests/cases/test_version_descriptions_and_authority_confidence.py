"""With pack version 2 published, the caseworkers read what each step asks for in the words of
the rule version applied (Mayotte: 7 days), on the dashboard and in the CSV, and the case page
says how sure the pack is of the competent prefecture."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from cases.models import Organisation
from rules.models import PackVersion
from rules.packstore import load_pack
from rules.services import forget_published, today
from tests.cases.personas import make_case
from tests.cases.test_dashboard import read_csv

V2 = Path(__file__).resolve().parents[2] / "rules/packs/asylum-reexamination/v2/pack.json"
MAYOTTE_FR = "À Mayotte, la demande complète doit être envoyée par courrier à l'OFPRA"
GENERAL_FR = "dans un délai de 8 jours calendaires à compter de l'enregistrement"


@pytest.fixture
def version_2(asylum_pack: PackVersion) -> PackVersion:
    """Version 2 loaded and made the published version (version 1 retired)."""
    loaded = load_pack(json.loads(V2.read_text(encoding="utf-8")), status="draft")
    PackVersion.objects.filter(pk=asylum_pack.pk).update(status=PackVersion.Status.RETIRED)
    PackVersion.objects.filter(pk=loaded.pk).update(status=PackVersion.Status.PUBLISHED)
    forget_published()
    return loaded


def registered(org: Organisation, user: User, pack: PackVersion, department: str) -> Any:
    return make_case(
        org,
        user,
        pack,
        reference=f"D-{department}",
        department=department,
        events=[("registration", today() - dt.timedelta(days=2))],
    )


def page_text(response: Any) -> str:
    return str(response.content.decode()).replace("&#x27;", "'")


def test_the_dashboard_says_7_days_for_mayotte_and_8_elsewhere(
    client: Client, version_2: PackVersion, org_a: Organisation, carla: User
) -> None:
    registered(org_a, carla, version_2, "976")
    client.force_login(carla)
    page = page_text(client.get(reverse("dashboard")))
    assert MAYOTTE_FR in page
    assert GENERAL_FR not in page
    registered(org_a, carla, version_2, "54")
    page = page_text(client.get(reverse("dashboard")))
    assert MAYOTTE_FR in page
    assert GENERAL_FR in page


def test_the_csv_gives_each_deadline_the_description_of_its_version(
    client: Client, version_2: PackVersion, org_a: Organisation, carla: User
) -> None:
    registered(org_a, carla, version_2, "976")
    registered(org_a, carla, version_2, "54")
    client.force_login(carla)
    response = client.get(reverse("deadlines-csv"))
    rows = read_csv(response)[1:]
    what_to_do = {row[3]: row[8] for row in rows}
    assert what_to_do["D-976"].startswith(MAYOTTE_FR)
    assert GENERAL_FR in what_to_do["D-54"]


def test_the_case_page_says_how_sure_the_pack_is_of_the_competent_prefecture(
    client: Client, version_2: PackVersion, org_a: Organisation, carla: User
) -> None:
    lyon = registered(org_a, carla, version_2, "01")
    beauvais = registered(org_a, carla, version_2, "02")
    client.force_login(carla)
    page = page_text(client.get(reverse("case-detail", args=[lyon.pk])))
    assert 'Préfecture du Rhône (Lyon) <span class="muted">(69), certaine</span>' in page
    page = page_text(client.get(reverse("case-detail", args=[beauvais.pk])))
    assert 'Préfecture de l\'Oise (Beauvais) <span class="muted">(60), probable</span>' in page
