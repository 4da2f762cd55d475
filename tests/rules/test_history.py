"""History a lawyer can read: loaded records say so, a rule's versions on a time line, two
versions compared, who changed what and why (deleted versions included), and the pack as it
stood on a day, exported and loaded back."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django.utils import timezone

from rules.change_reasons import recorded_as
from rules.engine.pack import parse_pack
from rules.history import compare, pack_dict_as_of, published_on, subject
from rules.models import RECORD_MODELS, DeadlineRule, DeadlineRuleVersion, LookupRow, PackVersion
from rules.packstore import copy_as_draft, definition, load_pack
from tests.conftest import Amend, sign_in_verified

PACK_FILE = (
    Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination" / "pack.json"
)
LOADED_ON = dt.date(2026, 1, 10)


@pytest.fixture
def legal(django_user_model: type[User]) -> Client:
    user = django_user_model.objects.create_superuser("legal", "legal@example.org", "pw")
    return sign_in_verified(Client(), user)


def submission_rule(pack: PackVersion) -> DeadlineRule:
    return DeadlineRule.objects.get(pack_version=pack, key="ofpra_submission")


def history_url(rule: DeadlineRule) -> str:
    return f"/admin/rules/workbench/history/deadlinerule/{rule.pk}/"


def loaded_on(day: dt.date) -> None:
    """As if the shipped pack had been loaded on that day (the test database loads it today)."""
    shift = timezone.now() - timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    for model in RECORD_MODELS:
        model.history.all().update(history_date=F("history_date") - shift)  # type: ignore[attr-defined]


def test_records_loaded_from_a_pack_file_say_so_with_no_author(asylum_pack: PackVersion) -> None:
    for model in (DeadlineRuleVersion, LookupRow, PackVersion):
        records = model.history.all()
        assert records.exists()
        assert {r.history_change_reason for r in records} == {"loaded from pack file, version 1"}
        assert {r.history_user_id for r in records} == {None}


def test_a_rule_page_shows_its_versions_on_a_time_line_with_their_dates(
    asylum_pack: PackVersion, legal: Client
) -> None:
    rule = submission_rule(asylum_pack)
    page = legal.get(history_url(rule)).content.decode()
    for version in rule.versions.all():
        assert f"v{version.version}" in page
        if version.effective_from:
            assert version.effective_from.isoformat() in page
    assert 'class="wb-bar' in page
    change_page = legal.get(f"/admin/rules/deadlinerule/{rule.pk}/change/").content.decode()
    assert history_url(rule) in change_page


def test_two_versions_are_compared_field_by_field(asylum_pack: PackVersion, legal: Client) -> None:
    rule = submission_rule(asylum_pack)
    found = subject("deadlinerule", rule.pk)
    first, last = found.versions[0], found.versions[-1]
    differences = {d.name: d for d in compare(first, last)}
    assert differences["version"].changed
    assert differences["effective_from"].changed
    assert not differences["trigger_event"].changed
    assert differences["offset"].old == first.record.offset
    page = legal.get(history_url(rule), {"a": first.pk, "b": last.pk}).content.decode()
    assert 'id="differences"' in page
    assert "wb-changed" in page


def test_who_changed_what_when_and_why_includes_deleted_versions(
    asylum_pack: PackVersion, legal: Client
) -> None:
    rule = submission_rule(copy_as_draft(asylum_pack))  # changes are made in a draft
    user = User.objects.get(username="legal")
    newest = rule.versions.order_by("-version")[0]
    with recorded_as("Décret 2026-123", user):
        newest.offset = 10
        newest.save()
    oldest = rule.versions.order_by("version")[0]
    oldest_pk = oldest.pk
    with recorded_as("Version annulée", user):
        oldest.delete()

    found = subject("deadlinerule", rule.pk)
    assert [v.deleted for v in found.versions if v.pk == oldest_pk] == [True]
    page = legal.get(history_url(rule)).content.decode()
    assert "Décret 2026-123" in page
    assert "Version annulée" in page
    assert "offset" in page
    assert "legal" in page


def test_the_admin_history_page_lists_the_versions_changed_in_the_same_save(
    asylum_pack: PackVersion, legal: Client
) -> None:
    rule = submission_rule(copy_as_draft(asylum_pack))  # changes are made in a draft
    user = User.objects.get(username="legal")
    newest = rule.versions.order_by("-version")[0]
    old_offset = newest.offset
    with recorded_as("Décret 2026-123", user):
        rule.save()  # the admin saves the rule, then its inline versions
        newest.offset = 10
        newest.save()
    response = legal.get(f"/admin/rules/deadlinerule/{rule.pk}/history/")
    first_row = response.context["page_obj"].object_list[0]
    assert {
        "field": f"ofpra_submission v{newest.version}: offset",
        "old": old_offset,
        "new": 10,
    } in first_row.history_delta_changes


def later_offset(pack: PackVersion, amend: Amend) -> tuple[PackVersion, int]:
    """Publish today a new version of the pack whose submission time limit is 5 days longer."""
    old_offset = submission_rule(pack).versions.order_by("-version")[0].offset

    def longer(draft: PackVersion) -> None:
        newest = submission_rule(draft).versions.order_by("-version")[0]
        newest.offset = old_offset + 5
        newest._change_reason = "changed later"  # type: ignore[attr-defined]
        newest.save()

    return amend(pack, longer), old_offset


def test_the_pack_as_it_stood_on_a_day_is_the_published_version_then(
    asylum_pack: PackVersion, amend: Amend
) -> None:
    loaded_on(LOADED_ON)
    assert published_on(asylum_pack.pack, LOADED_ON - dt.timedelta(days=1)) is None
    assert published_on(asylum_pack.pack, LOADED_ON) == asylum_pack

    later, old_offset = later_offset(asylum_pack, amend)
    today = timezone.localdate()
    assert published_on(asylum_pack.pack, today) == later

    def offset_on(day: dt.date) -> int:
        standing = published_on(asylum_pack.pack, day)
        assert standing is not None
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59)))
        data = pack_dict_as_of(standing, moment)
        found = next(d for d in data["deadline_rules"] if d["key"] == "ofpra_submission")
        return int(found["versions"][-1]["offset"])

    assert offset_on(LOADED_ON) == old_offset
    assert offset_on(today) == old_offset + 5


def test_the_pack_as_it_stood_exports_as_its_file_and_loads_back(
    asylum_pack: PackVersion, legal: Client, amend: Amend
) -> None:
    exported = io.StringIO()
    call_command("exportrulepack", "asylum-reexamination", stdout=exported)
    loaded_on(LOADED_ON)
    later_offset(asylum_pack, amend)

    url = f"/admin/rules/workbench/packs/{asylum_pack.pack_id}/as-of/"
    page = legal.get(url, {"date": LOADED_ON.isoformat()}).content.decode()
    assert 'id="published-that-day"' in page
    response = legal.get(url, {"date": LOADED_ON.isoformat(), "download": "1"})
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.decode() == exported.getvalue()

    data: dict[str, Any] = json.loads(response.content)
    data["version"] = 9
    reloaded = load_pack(data, status=PackVersion.Status.DRAFT)
    original = parse_pack(json.loads(PACK_FILE.read_text(encoding="utf-8")))
    assert definition(reloaded) == type(original)(**{**original.__dict__, "version": 9})


def test_the_history_page_links_the_same_rule_in_the_packs_other_versions(
    asylum_pack: PackVersion, legal: Client
) -> None:
    draft = copy_as_draft(asylum_pack)
    copied = submission_rule(draft)
    page = legal.get(history_url(copied)).content.decode()
    assert history_url(submission_rule(asylum_pack)) in page
    reasons = {r.history_change_reason for r in copied.versions.all()[0].history.all()}
    assert reasons == {"copied from version 1 as a draft"}
