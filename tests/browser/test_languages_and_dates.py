"""In a real browser, French and English pages read in one language, with dates whose month is
written in words (« 16 mars 2026 », "16 Mar 2026"), never 03/16/2026."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User

from cases.models import Organisation
from rules.models import PackVersion
from tests.browser.test_caseworker_story import sign_in
from tests.cases.personas import make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMERIC_DATE = re.compile(r"(?<![\d/.-])\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?![\d/.-])")


def visible(page: Any) -> str:
    return str(page.locator("body").inner_text())


def test_it_shows_the_dashboard_and_a_case_in_french_then_english(
    live_server: Any, page: Any, asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(
        org_a,
        carla,
        asylum_pack,
        reference="A-201",
        applicant_name="Amina Diallo",
        events=[
            ("registration", dt.date(2026, 3, 4)),
            ("ofpra_submission", dt.date(2026, 3, 10)),
            ("ofpra_admissibility_decision", dt.date(2026, 3, 16), "inadmissible"),
        ],
    )
    make_case(
        org_a,
        carla,
        asylum_pack,
        reference="A-202",
        applicant_name="Olga Ivanova",
        events=[("registration", dt.date(2026, 4, 1))],
    )
    base = live_server.url
    sign_in(page, base, "carla")

    # French first: the dashboard's "what to do" in French, dates with the month abbreviated.
    dashboard = visible(page)
    assert "Étape et action attendue" in dashboard
    assert "doit être envoyée par courrier à l'OFPRA dans un délai de 8 jours" in dashboard
    assert "must be posted" not in dashboard
    assert "jeu 9 avr. 2026" in dashboard
    assert NUMERIC_DATE.findall(dashboard) == []

    page.goto(f"{base}/cases/{case.pk}/")
    text = visible(page)
    assert "Personne accompagnée" in text
    assert "Fondement juridique" in text
    assert "16 mars 2026" in text
    assert NUMERIC_DATE.findall(text) == []
    options = page.locator("form[action$='/events/new/'] select[name=outcome] option")
    assert "protection accordée" in [o.strip() for o in options.all_text_contents()]

    page.click("form.language-switch button[value=en]")
    page.wait_for_selector("html[lang=en]")
    text = visible(page)
    assert "Legal basis" in text
    assert "16 Mar 2026" in text
    assert "March 16, 2026" not in text
    assert "Until ofpra decision" not in text
    assert NUMERIC_DATE.findall(text) == []

    page.goto(base + "/")
    dashboard = visible(page)
    assert "The complete request must be posted to OFPRA within 8 days" in dashboard
    assert "Thu 9 Apr 2026" in dashboard
    assert NUMERIC_DATE.findall(dashboard) == []
    page.goto(base + "/cases/")
    files = visible(page)
    assert "Sending the request to OFPRA" in files
    assert "Envoi de la demande" not in files
