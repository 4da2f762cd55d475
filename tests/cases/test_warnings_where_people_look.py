"""The warnings of a case's result are seen where caseworkers look (pack spec §7.5): the
dashboard rows, the CSV export, the calendar feed's descriptions, and the case page's "checked
against the law on …" line names the review-horizon exception, in French and in English.

The case is judged by pack version 2 (published here): its registration falls due after the
pack's reviewed_until (11 June 2026), so `review_horizon` fires from the due date alone.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case, Membership, Organisation
from rules.models import PackVersion
from rules.packstore import load_pack
from tests.cases.personas import make_case
from tests.cases.test_every_text_translated import assert_in_language, visible_text

V2 = Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination" / "v2"
TITLE = {
    "fr": "Droit non vérifié au-delà de la date de revue",
    "en": "Law after the review date not checked",
}
MESSAGE_START = {
    "fr": "Ce jeu de règles a été revu au regard du droit jusqu'au 11 juin 2026.",
    "en": "This rule pack was reviewed against the law up to 11 June 2026.",
}
POLE = {
    "fr": "Expérimentation du Val-d'Oise : dépôt auprès de l'OFPRA",
    "en": "Val-d'Oise pilot: lodged with OFPRA",
}
EXCEPTION = {
    "fr": "sauf ce que signale l'avertissement sur la date de revue du droit",
    "en": "except what the review-horizon warning names",
}


@pytest.fixture
def version_2(asylum_pack: PackVersion) -> PackVersion:
    """Pack version 2 as the published one (loaded as a draft, then published in place)."""
    data = json.loads((V2 / "pack.json").read_text(encoding="utf-8"))
    draft = load_pack(data, status=PackVersion.Status.DRAFT)
    PackVersion.objects.filter(pk=asylum_pack.pk).update(status=PackVersion.Status.RETIRED)
    PackVersion.objects.filter(pk=draft.pk).update(status=PackVersion.Status.PUBLISHED)
    draft.refresh_from_db()
    return draft


@pytest.fixture
def past_horizon(version_2: PackVersion, org_a: Organisation, carla: User) -> Case:
    """Presented at the Metz prefecture on 10 June 2026: registration due after 11 June."""
    return make_case(
        org_a,
        carla,
        version_2,
        [("prefecture_presentation", dt.date(2026, 6, 10))],
        reference="H-001",
        applicant_name="Amina Diallo",
        department="57",
    )


@pytest.fixture
def val_d_oise(version_2: PackVersion, org_a: Organisation, carla: User) -> Case:
    """Registered in the Val-d'Oise pilot in 2025: pole_france_asile, a case-level warning."""
    return make_case(
        org_a,
        carla,
        version_2,
        [
            ("prefecture_presentation", dt.date(2025, 6, 2)),
            ("registration", dt.date(2025, 6, 3)),
        ],
        reference="V-095",
        applicant_name="Yusuf Kaya",
        department="95",
    )


def read(client: Client, language: str, url: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200, url
    return response.getvalue().decode()  # the CSV export is streamed


def test_the_stored_deadline_keeps_the_warnings_that_concern_it_in_each_language(
    past_horizon: Case,
) -> None:
    registration = past_horizon.deadlines.get(key="registration")
    assert registration.due is not None
    assert registration.due > dt.date(2026, 6, 11)
    for language in ("fr", "en"):
        (warning,) = registration.warnings_in(language)
        assert warning["code"] == "review_horizon"
        assert warning["title"] == TITLE[language]
        assert warning["message"].startswith(MESSAGE_START[language])


@pytest.mark.parametrize("language", ["fr", "en"])
def test_dashboard_rows_show_each_warning_of_their_case(
    client: Client, carla: User, past_horizon: Case, val_d_oise: Case, language: str
) -> None:
    client.force_login(carla)
    page = read(client, language, reverse("dashboard"))
    text = visible_text(page)
    assert TITLE[language] in text
    assert MESSAGE_START[language] in text
    assert POLE[language] in text
    assert_in_language(text, language, "dashboard", forbidden=[TITLE[other(language)]])


def test_showing_warnings_adds_no_query_per_row(
    client: Client, carla: User, version_2: PackVersion, org_a: Organisation
) -> None:
    client.force_login(carla)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("dashboard")).status_code == 200
        return len(captured)

    make_case(org_a, carla, version_2, [("prefecture_presentation", dt.date(2026, 6, 10))])
    one = queries()
    for _ in range(3):
        make_case(org_a, carla, version_2, [("prefecture_presentation", dt.date(2026, 6, 10))])
    assert queries() == one


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_csv_export_has_a_warnings_column(
    client: Client, carla: User, past_horizon: Case, language: str
) -> None:
    client.force_login(carla)
    csv = read(client, language, reverse("deadlines-csv"))
    header = csv.lstrip("\ufeff").splitlines()[0].split(";")
    assert header[-1] == {"fr": "Avertissements", "en": "Warnings"}[language]
    colon = " :" if language == "fr" else ":"
    assert f"{TITLE[language]}{colon} {MESSAGE_START[language]}" in csv
    assert_in_language(csv, language, "CSV", forbidden=[TITLE[other(language)]])


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_calendar_feed_describes_the_warnings(
    carla: User, past_horizon: Case, language: str
) -> None:
    token = Membership.objects.get(user=carla).feed_token
    feed = read(Client(), language, reverse("calendar-feed", args=[token]))
    unfolded = feed.replace("\r\n ", "").replace("\\,", ",").replace("\\;", ";")
    word = {"fr": "Attention :", "en": "Warning:"}[language]
    assert f"{word} {TITLE[language]}." in unfolded
    assert MESSAGE_START[language] in unfolded
    assert "Amina Diallo" not in unfolded  # the feed never names the applicant


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_case_page_says_what_the_check_against_the_law_leaves_out(
    client: Client, carla: User, past_horizon: Case, val_d_oise: Case, language: str
) -> None:
    client.force_login(carla)
    text = visible_text(read(client, language, reverse("case-detail", args=[past_horizon.pk])))
    assert EXCEPTION[language] in text
    assert f"({'« ' if language == 'fr' else '“'}{TITLE[language]}" in text
    assert_in_language(text, language, "case page", forbidden=[TITLE[other(language)]])
    # No review-horizon warning: the plain line.
    plain = visible_text(read(client, language, reverse("case-detail", args=[val_d_oise.pk])))
    assert EXCEPTION[language] not in plain
    assert POLE[language] in plain


def other(language: str) -> str:
    return "en" if language == "fr" else "fr"
