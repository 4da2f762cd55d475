"""Department versions, possible extensions, holiday adjustments and the anchor event, as records:
loaded, exported, edited in the admin and evaluated over the API (on a made-up pack)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from rules.engine.pack import dump_pack, parse_pack
from rules.models import (
    DeadlineRuleVersion,
    HolidayAdjustmentDay,
    HolidayAdjustmentVersion,
    PackVersion,
)
from rules.pack_files import pack_file_text
from rules.packstore import copy_as_draft, definition, load_pack
from tests.conftest import sign_in_verified
from tests.engine.made_up import PROVENANCE, pack
from tests.rules.admin_forms import change_form_data, inline_index, inline_prefix
from tests.rules.test_admin import form_data, url


def full_pack() -> dict[str, Any]:
    """The made-up pack using every new field."""
    data = pack(
        anchor_event="lodged",
        holiday_adjustments=[
            {
                **PROVENANCE,
                "confidence": "unsure",
                "effective_from": "2026-01-01",
                "days": [
                    {"subdivision": "57", "date": "05-27", "action": "add", "name": "Local fair"},
                    {
                        "subdivision": "57",
                        "date": "12-26",
                        "action": "remove",
                        "name": "Saint Stephen's Day",
                    },
                ],
            }
        ],
        translations={"fr": {"Local fair": "Foire locale"}},
    )
    rule = data["deadline_rules"][0]
    rule["version_by"] = "trigger"
    general = rule["versions"][0]
    general.update(
        extension="possible", extension_basis="Test code art. 642", extension_confidence="likely"
    )
    rule["versions"].append({**general, "version": 2, "offset": 7, "departments": ["971"]})
    return data


def text_of(data: dict[str, Any]) -> str:
    return pack_file_text(dump_pack(parse_pack(data)))


def test_a_pack_with_the_new_fields_exports_exactly_as_it_was_loaded(
    db: None, tmp_path: Path
) -> None:
    source = tmp_path / "made-up.json"
    source.write_text(text_of(full_pack()), encoding="utf-8")
    call_command("loadrulepack", str(source), stdout=io.StringIO())
    out = io.StringIO()
    call_command("exportrulepack", "demo-filing", stdout=out)
    assert out.getvalue() == source.read_text(encoding="utf-8")
    stored = DeadlineRuleVersion.objects.get(rule__key="filing", version=2)
    assert (stored.departments, stored.extension) == ("971", "possible")
    assert HolidayAdjustmentVersion.objects.get().days.count() == 2


@pytest.fixture
def demo(db: None) -> PackVersion:
    return load_pack(json.loads(text_of(full_pack())))


def evaluate(client: APIClient, **request: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/evaluate", {"procedure": "demo-filing", **request}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()  # type: ignore[no-any-return]


def test_the_api_gives_possibly_open_with_its_label_and_the_next_working_day(
    demo: PackVersion, token_client: APIClient
) -> None:
    # Due Good Friday 3 April 2026 in 67 (calendar 57); next working day Tuesday 7 April.
    request = {"department": "67", "as_of": "2026-04-05"}
    events = [{"type": "decision", "date": "2026-03-26"}]
    english = evaluate(token_client, **request, events=events)["deadlines"][0]
    french = evaluate(token_client, **request, events=events, language="fr")["deadlines"][0]
    assert (english["due"], english["next_working_day"], english["status"]) == (
        "2026-04-03",
        "2026-04-07",
        "possibly_open",
    )
    assert english["status_label"] == (
        "may still be possible until 7 April 2026 \u2014 check with a lawyer"
    )
    assert french["status_label"] == (
        "peut-être encore possible jusqu'au 7 avril 2026 \u2014 à vérifier avec un juriste"
    )


def test_the_api_applies_department_versions_and_holiday_adjustments(
    demo: PackVersion, token_client: APIClient
) -> None:
    events = [{"type": "decision", "date": "2026-05-19"}]
    overseas = evaluate(token_client, department="971", as_of="2026-05-20", events=events)
    metz = evaluate(token_client, department="67", as_of="2026-05-20", events=events)
    assert overseas["deadlines"][0]["rule"]["version"] == 2
    assert overseas["deadlines"][0]["due"] == "2026-05-26"
    assert (metz["deadlines"][0]["due"], metz["deadlines"][0]["non_working_reason"]) == (
        "2026-05-27",
        "Local fair",
    )


def test_the_api_warns_about_an_event_dated_after_as_of(
    demo: PackVersion, token_client: APIClient
) -> None:
    body = evaluate(
        token_client,
        department="75",
        as_of="2026-03-01",
        events=[{"type": "decision", "date": "2026-03-26"}],
        language="fr",
    )
    assert [w["code"] for w in body["warnings"]] == ["event_in_future"]
    assert "26 mars 2026" in body["warnings"][0]["message"]


@pytest.fixture
def legal(django_user_model: type[User]) -> Client:
    user = django_user_model.objects.create_superuser("legal", "legal@example.org", "pw")
    return sign_in_verified(Client(), user)


@pytest.fixture
def draft(demo: PackVersion) -> PackVersion:
    """A draft copy of the made-up pack: records are changed in a draft, never once published."""
    return copy_as_draft(demo)


def test_the_admin_names_an_unknown_department_and_a_missing_extension_basis(
    draft: PackVersion, legal: Client
) -> None:
    version = DeadlineRuleVersion.objects.get(
        rule__pack_version=draft, rule__key="filing", version=2
    )
    response = legal.post(
        url(version),
        form_data(version, departments="971, 999", extension_basis="", change_reason="test"),
    )
    errors = response.context["adminform"].form.errors
    assert "'999' is not in table 'places'" in errors["departments"][0]
    assert errors["extension_basis"] == ["required when the extension is possible"]


def test_the_admin_saves_a_department_list_that_the_engine_then_uses(
    draft: PackVersion, legal: Client
) -> None:
    version = DeadlineRuleVersion.objects.get(
        rule__pack_version=draft, rule__key="filing", version=2
    )
    response = legal.post(
        url(version), form_data(version, departments="971, 57", change_reason="Mayotte too")
    )
    assert response.status_code == 302
    parsed = definition(PackVersion.objects.get(pk=draft.pk))
    assert parsed.deadline_rules[0].versions[1].departments == ("971", "57")


def test_the_admin_shows_the_anchor_event_and_the_holiday_adjustments(
    draft: PackVersion, legal: Client
) -> None:
    page = legal.get(url(draft)).content.decode()
    assert 'name="anchor_event"' in page
    adjustment = HolidayAdjustmentVersion.objects.get(pack_version=draft)
    page = legal.get(url(adjustment)).content.decode()
    assert "Local fair" in page


def test_the_admin_names_a_holiday_adjustments_bad_subdivision_and_date(
    draft: PackVersion, legal: Client
) -> None:
    adjustment = HolidayAdjustmentVersion.objects.get(pack_version=draft)
    page = legal.get(url(adjustment))
    data = change_form_data(page)
    prefix = inline_prefix(page, "holidayadjustmentday")
    row = inline_index(data, prefix, "name", "Local fair")
    data[f"{prefix}-{row}-subdivision"] = "99"
    data[f"{prefix}-{row}-date"] = "02-30"
    data["change_reason"] = "test"
    response = legal.post(url(adjustment), data)
    assert response.status_code == 200
    formset = next(
        i.formset
        for i in response.context["inline_admin_formsets"]
        if i.formset.model is HolidayAdjustmentDay
    )
    errors = formset.forms[row].errors
    assert "unknown subdivision '99'" in errors["subdivision"][0]
    assert errors["date"] == ["expected a date (YYYY-MM-DD) or a day of every year (MM-DD)"]
    assert adjustment.days.filter(subdivision="99").count() == 0


def test_the_admin_names_a_pack_versions_unknown_anchor_event(
    draft: PackVersion, legal: Client
) -> None:
    page = legal.get(url(draft))
    data = change_form_data(page)
    data.update(anchor_event="lodgde", change_reason="test")
    response = legal.post(url(draft), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["anchor_event"] == ["no event type 'lodgde'"]
    draft.refresh_from_db()
    assert draft.anchor_event == "lodged"
