"""Legal staff in a real browser: a rule's time line and two versions compared, the review page
reached from the admin banner, and a pack file import's dry run before anything is saved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from rules.models import DeadlineRule, PackVersion
from tests.browser.two_factor import admin_sign_in_with_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PACK_FILE = (
    Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination" / "pack.json"
)


def admin_sign_in(page: Any, base: str) -> None:
    User.objects.create_superuser("juriste", "juriste@example.org", "not-a-real-secret")
    admin_sign_in_with_code(page, base, "juriste", "not-a-real-secret")


def test_legal_staff_read_a_rules_history_review_and_try_an_import(
    live_server: Any, page: Any, asylum_pack: PackVersion, tmp_path: Path, screenshot: Any
) -> None:
    base = live_server.url
    admin_sign_in(page, base)

    # The banner on the admin's home page leads to the review page.
    page.click("#review-banner a")
    page.wait_for_url(base + "/admin/rules/workbench/review/")
    assert page.locator("#review-uncovered li").count() > 0
    screenshot("workbench-review", 1280, 800)

    # From the rule's page to its time line, then two versions compared.
    rule = DeadlineRule.objects.get(pack_version=asylum_pack, key="ofpra_submission")
    page.goto(f"{base}/admin/rules/deadlinerule/{rule.pk}/change/")
    page.click("#rule-history-link")
    page.wait_for_selector("#timeline .wb-bar")
    bars = page.locator("#timeline .wb-bar")
    assert bars.count() == rule.versions.count()
    versions = list(rule.versions.order_by("version"))
    page.select_option("#id_a", str(versions[0].pk))
    page.select_option("#id_b", str(versions[-1].pk))
    page.click("#compare input[type=submit]")
    page.wait_for_selector("#differences")
    changed = page.locator("#differences tr.wb-changed td:first-child").all_inner_texts()
    assert "effective_from" in changed
    assert "trigger_event" not in changed
    assert "loaded from pack file, version 1" in page.locator("#changes").inner_text()
    screenshot("workbench-rule-history", 1280, 900)

    # A changed file: the dry run lists the change and nothing is saved.
    data = json.loads(PACK_FILE.read_text(encoding="utf-8"))
    target = next(d for d in data["deadline_rules"] if d["key"] == "ofpra_submission")
    target["versions"][-1]["offset"] = 10
    changed_file = tmp_path / "pack.json"
    changed_file.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    page.goto(base + "/admin/rules/packversion/")
    page.click("#import-link")
    page.set_input_files("#id_file", str(changed_file))
    page.click("#upload input[type=submit]")
    page.wait_for_selector("#import-changes")
    rows = page.locator("#import-changes tbody tr").all_inner_texts()
    assert len(rows) == 1
    assert "offset" in rows[0]
    assert "10" in rows[0]
    assert PackVersion.objects.filter(pack=asylum_pack.pack).count() == 1
    screenshot("workbench-import-dry-run", 1280, 800)

    page.fill("#id_reason", "Décret 2026-123")
    page.click("#confirm-import input[name=confirm]")
    page.wait_for_url("**/admin/rules/packversion/*/change/")
    draft = PackVersion.objects.get(pack=asylum_pack.pack, number=asylum_pack.number + 1)
    assert draft.status == PackVersion.Status.DRAFT
