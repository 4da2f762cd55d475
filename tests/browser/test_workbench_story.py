"""Legal staff in a real browser: open the draft, add a new version of the OFPRA submission rule
filled from the version in force, fail to publish it alone, and publish it as a second person."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from rules.models import DeadlineRule, DeadlineRuleVersion, PackVersion
from rules.packstore import copy_as_draft
from tests.browser.two_factor import admin_sign_in_with_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def admin_sign_in(page: Any, base: str, username: str) -> None:
    admin_sign_in_with_code(page, base, username, "pw")


def test_legal_staff_change_a_time_limit_and_a_second_person_publishes_it(
    live_server: Any,
    page: Any,
    screenshot: Any,
    asylum_pack: PackVersion,
    django_user_model: type[User],
) -> None:
    django_user_model.objects.create_superuser("lawyer", "lawyer@example.org", "pw")
    django_user_model.objects.create_superuser("reviewer", "reviewer@example.org", "pw")
    draft = copy_as_draft(asylum_pack)
    rule = DeadlineRule.objects.get(pack_version=draft, key="ofpra_submission")
    base = live_server.url

    admin_sign_in(page, base, "lawyer")
    page.goto(base + "/admin/rules/deadlinerule/?q=ofpra_submission")
    # The draft's row says so, and comes before the published one.
    rows = page.locator("#result_list tbody tr")
    assert "v2 draft" in rows.nth(0).inner_text()
    assert "v1 published" in rows.nth(1).inner_text()
    rows.nth(0).locator("th a").click()

    page.click("text=Nouvelle version de cette règle")
    assert page.input_value("#id_offset") == "8"
    assert page.input_value("#id_legal_basis") == "CESEDA R531-36"
    page.fill("#id_applies_from", "2026-04-05")
    page.fill("#id_offset", "10")
    page.fill("#id_change_reason", "Décret 2026-xx : 10 jours")
    screenshot("workbench-new-version", 1280, 800)
    page.click("text=Save the new version")
    page.wait_for_selector("text=Version 3 added from 5 Apr 2026")
    versions = {
        v.version: (v.effective_from, v.effective_to, v.offset)
        for v in DeadlineRuleVersion.objects.filter(rule=rule)
    }
    assert versions[2] == (dt.date(2021, 5, 1), dt.date(2026, 4, 4), 8)
    assert versions[3] == (dt.date(2026, 4, 5), None, 10)

    page.goto(base + f"/admin/rules/packversion/{draft.pk}/change/")
    page.click("text=Publier…")
    page.fill("#id_reason", "Décret 2026-xx")
    page.click("text=Publish this version")
    refusal = page.locator("#publish-refusals").inner_text()
    assert "You made the last change to this draft" in refusal
    draft.refresh_from_db()
    assert draft.status == PackVersion.Status.DRAFT
    screenshot("workbench-publish-refused", 1280, 800)

    page.context.clear_cookies()
    admin_sign_in(page, base, "reviewer")
    page.goto(base + f"/admin/rules/packversion/{draft.pk}/publish/")
    assert "The draft is a valid pack." in page.content()
    page.fill("#id_reason", "Décret 2026-xx")
    page.click("text=Publish this version")
    page.wait_for_selector("text=is published; the previous version is retired")
    draft.refresh_from_db()
    asylum_pack.refresh_from_db()
    assert (draft.status, asylum_pack.status) == ("published", "retired")
    assert draft.published_by is not None
    assert draft.published_by.username == "reviewer"
