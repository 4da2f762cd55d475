"""In a real browser: an event dated after today is saved only after the caseworker confirms it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from cases.models import Case
from rules.services import today
from tests.browser.test_caseworker_story import sign_in
from tests.cases.personas import case_a  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_date_after_today_is_confirmed_before_it_is_saved(
    live_server: Any,
    page: Any,
    carla: User,
    case_a: Case,  # noqa: F811
) -> None:
    base = live_server.url
    sign_in(page, base, "carla")
    page.goto(f"{base}/cases/{case_a.pk}/events/new/")
    tomorrow = today() + dt.timedelta(days=1)
    page.locator("select[name=type]").select_option("ofpra_submission")
    page.locator("input[name=date]").fill(tomorrow.isoformat())
    page.locator("main button[type=submit]").click()

    alert = page.locator(".error-summary")
    assert "postérieur à aujourd'hui" in alert.inner_text()
    assert not case_a.events.filter(type="ofpra_submission").exists()

    page.get_by_label("Oui, cette date postérieure à aujourd'hui est la bonne").check()
    page.locator("main button[type=submit]").click()
    page.wait_for_selector(".message-success")
    assert case_a.events.get(type="ofpra_submission").date == tomorrow
