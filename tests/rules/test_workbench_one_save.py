"""A save is judged on everything typed in it: all versions of a rule together, then the pack.

The issue's example: in a draft, the OFPRA submission limit becomes 10 days for registrations
from 5 April 2026, in one save of the rule's page (version 2 ends on 4 April, version 3 starts on
5 April).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from rules import services
from rules.models import DeadlineRule, DeadlineRuleVersion, PackVersion
from rules.packstore import copy_as_draft
from tests.conftest import sign_in_verified
from tests.rules.admin_forms import add_inline_row, change_form_data, inline_index, inline_prefix

CASE = {
    "procedure": "asylum-reexamination",
    "department": "75",
    "as_of": "2026-05-01",
    "events": [{"type": "registration", "date": "2026-04-08"}],
}


@pytest.fixture
def lawyer(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_superuser("lawyer", "lawyer@example.org", "pw")


@pytest.fixture
def legal(lawyer: User) -> Client:
    return sign_in_verified(Client(), lawyer)


@pytest.fixture
def draft(asylum_pack: PackVersion) -> PackVersion:
    return copy_as_draft(asylum_pack)


def rule_page(draft: PackVersion) -> str:
    rule = DeadlineRule.objects.get(pack_version=draft, key="ofpra_submission")
    return f"/admin/rules/deadlinerule/{rule.pk}/change/"


def one_save(
    legal: Client, draft: PackVersion, *, ends: str, starts: str, offset: int = 10
) -> tuple[Any, dict[str, Any]]:
    """End version 2 on `ends` and add version 3 from `starts`, in one POST of the rule's page."""
    page = legal.get(rule_page(draft))
    data = change_form_data(page)
    prefix = inline_prefix(page, "deadlineruleversion")
    v2 = inline_index(data, prefix, "version", 2)
    data[f"{prefix}-{v2}-effective_to"] = ends
    row = {
        key.split("-", 2)[2]: value
        for key, value in data.items()
        if key.startswith(f"{prefix}-{v2}-") and not key.endswith(("-id", "-rule"))
    }
    row.update(version=3, effective_from=starts, effective_to="", offset=offset)
    row["legal_basis"] = "CESEDA R531-36 (amended)"
    add_inline_row(data, prefix, row)
    data["change_reason"] = "Décret 2026-xx: 10 days from 5 April 2026"
    return legal.post(rule_page(draft), data), data


def due(pack_version: PackVersion | None = None, registered: str = "2026-04-08") -> str:
    case = {**CASE, "events": [{"type": "registration", "date": registered}]}
    result = services.evaluate_request(
        case, pack_version_id=pack_version.pk if pack_version else None
    )
    return str(next(d["due"] for d in result["deadlines"] if d["key"] == "ofpra_submission"))


def test_it_accepts_ending_version_2_and_adding_version_3_in_one_save(
    draft: PackVersion, legal: Client
) -> None:
    response, _ = one_save(legal, draft, ends="2026-04-04", starts="2026-04-05")
    assert response.status_code == 302, response.context and [
        f.errors for i in response.context["inline_admin_formsets"] for f in i.formset.forms
    ]
    versions = DeadlineRuleVersion.objects.filter(
        rule__pack_version=draft, rule__key="ofpra_submission"
    ).order_by("version")
    assert [(v.version, v.effective_from, v.effective_to, v.offset) for v in versions][1:] == [
        (2, dt.date(2021, 5, 1), dt.date(2026, 4, 4), 8),
        (3, dt.date(2026, 4, 5), None, 10),
    ]
    # The draft gives the new date to a registration from 5 April, the old one before it.
    assert due(draft) == "2026-04-18"
    assert due(draft, registered="2026-04-03") == "2026-04-11"
    # Nothing changed for the published version until the draft is published.
    assert due() == "2026-04-16"


def test_it_refuses_an_overlapping_version_naming_both_versions_and_their_dates(
    draft: PackVersion, legal: Client
) -> None:
    response, _ = one_save(legal, draft, ends="2026-04-10", starts="2026-04-05")
    assert response.status_code == 200
    formset = next(
        i.formset
        for i in response.context["inline_admin_formsets"]
        if i.formset.model is DeadlineRuleVersion
    )
    assert formset.non_form_errors() == [
        "version 3 (from 5 Apr 2026) would be in force on 5 Apr 2026 together with version 2 "
        "(1 May 2021 \u2013 10 Apr 2026): end one the day before the other starts."
    ]
    assert "version 3 (from 5 Apr 2026)" in response.content.decode()
    assert not DeadlineRuleVersion.objects.filter(
        rule__pack_version=draft, rule__key="ofpra_submission", version=3
    ).exists()
    v2 = DeadlineRuleVersion.objects.get(
        rule__pack_version=draft, rule__key="ofpra_submission", version=2
    )
    assert v2.effective_to is None


def test_a_save_records_who_last_changed_the_draft_and_when(
    draft: PackVersion, legal: Client, lawyer: User
) -> None:
    assert draft.last_edited_by is None
    one_save(legal, draft, ends="2026-04-04", starts="2026-04-05")
    draft.refresh_from_db()
    assert draft.last_edited_by == lawyer
    assert draft.last_edited_at is not None


def test_new_version_of_this_rule_is_filled_from_the_version_in_force_and_closes_it(
    draft: PackVersion, legal: Client, lawyer: User
) -> None:
    page = legal.get(rule_page(draft)).content.decode()
    rule = DeadlineRule.objects.get(pack_version=draft, key="ofpra_submission")
    new_version_url = f"/admin/rules/deadlinerule/{rule.pk}/new-version/"
    assert new_version_url in page
    assert "Nouvelle version de cette règle" in page  # the admin speaks French by default

    form = legal.get(new_version_url).context["form"]
    # Filled from version 2, the newest: nothing to retype but what changes.
    assert form["offset"].value() == 8
    assert form["legal_basis"].value() == "CESEDA R531-36"
    assert form["trigger_event"].value() == "registration"
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    data.update(applies_from="2026-04-05", offset=10, change_reason="Décret 2026-xx")
    response = legal.post(new_version_url, data)
    assert response.status_code == 302
    v2, v3 = DeadlineRuleVersion.objects.filter(rule=rule, version__in=[2, 3]).order_by("version")
    assert (v2.effective_to, v3.effective_from, v3.effective_to, v3.offset) == (
        dt.date(2026, 4, 4),
        dt.date(2026, 4, 5),
        None,
        10,
    )
    assert v3.history.latest().history_user == lawyer
    assert due(draft) == "2026-04-18"
    draft.refresh_from_db()
    assert draft.last_edited_by == lawyer


def test_a_new_version_starting_before_the_version_in_force_is_refused(
    draft: PackVersion, legal: Client
) -> None:
    rule = DeadlineRule.objects.get(pack_version=draft, key="ofpra_submission")
    url = f"/admin/rules/deadlinerule/{rule.pk}/new-version/"
    form = legal.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    data.update(applies_from="2021-01-01", change_reason="test")
    response = legal.post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors == [
        "version 2 (from 1 May 2021) already starts on or after 1 Jan 2021: "
        "a new version must start after every existing one."
    ]
    assert not DeadlineRuleVersion.objects.filter(rule=rule, version=3).exists()


def test_new_version_works_for_a_warning_and_a_lookup_table_too(
    draft: PackVersion, legal: Client
) -> None:
    from rules import workbench
    from rules.models import LookupTableVersion, WarningRule

    warning = WarningRule.objects.filter(pack_version=draft).first()
    assert warning is not None
    page = legal.get(f"/admin/rules/warningrule/{warning.pk}/change/").content.decode()
    assert f"/admin/rules/warningrule/{warning.pk}/new-version/" in page

    table = LookupTableVersion.objects.filter(table__pack_version=draft).first()
    assert table is not None
    start = (table.effective_from or dt.date(2020, 1, 1)) + dt.timedelta(days=400)
    new = workbench.add_version(
        table, effective_from=start, changes={}, user=None, reason="new table version"
    )
    assert new.rows.count() == table.rows.count()
    table.refresh_from_db()
    assert table.effective_to == start - dt.timedelta(days=1)
