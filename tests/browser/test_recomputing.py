"""In a real browser: while the re-evaluation after a publication has not reached a case, its
page and the dashboard say its dates are being recomputed; then the new date shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from cases import reevaluation
from cases.models import Organisation
from rules.models import PackVersion
from tests.browser.test_caseworker_story import sign_in
from tests.cases.personas import make_case
from tests.cases.workbench import draft_with_ofpra_days, publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_case_page_marks_dates_being_recomputed_then_shows_the_new_date(
    live_server: Any,
    page: Any,
    screenshot: Any,
    asylum_pack: PackVersion,
    org_a: Organisation,
    carla: User,
) -> None:
    case = make_case(
        org_a,
        carla,
        asylum_pack,
        reference="MZ-42",
        applicant_name="Amina Diallo",
        events=[
            ("prefecture_presentation", dt.date(2026, 4, 2)),
            ("registration", dt.date(2026, 4, 8)),
        ],
    )
    base = live_server.url
    sign_in(page, base, "carla")
    case_url = f"{base}/cases/{case.pk}/"
    page.goto(case_url)
    assert page.locator("#recomputing").count() == 0
    assert page.locator("time[datetime='2026-04-16']").count() == 1

    draft = draft_with_ofpra_days(asylum_pack, 10)
    publish(draft, reason="Décret 2026-123", hooks=False)
    run = reevaluation.start_run(draft.pk)  # stored, not yet applied by any worker

    page.goto(case_url)
    banner = page.locator("#recomputing")
    assert banner.is_visible()
    assert "recalcul" in banner.inner_text()
    assert page.locator("time[datetime='2026-04-16'] + .flag-recomputing").count() == 1
    screenshot("case-being-recomputed", 1280, 800)
    page.goto(base + "/")
    assert page.locator(".flag-recomputing").count() >= 1

    for chunk in run.chunks.all():
        reevaluation.apply_chunk(chunk.pk)

    page.goto(case_url)
    assert page.locator("#recomputing").count() == 0
    assert page.locator(".flag-recomputing").count() == 0
    assert page.locator("time[datetime='2026-04-18']").count() == 1
    assert page.locator("time[datetime='2026-04-18']").inner_text() == "sam 18 avr. 2026"
