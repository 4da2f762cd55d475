"""A lookup row's confidence and a deadline rule version's description, as records: loaded,
exported byte for byte, edited and validated in the admin, and given by the API (made-up pack)."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from rules import workbench
from rules.engine.pack import dump_pack, parse_pack
from rules.models import DeadlineRuleVersion, LookupRow, LookupTableVersion, PackVersion
from rules.pack_files import pack_file_text
from rules.packstore import copy_as_draft, definition, load_pack
from tests.conftest import sign_in_verified
from tests.engine.made_up import PROVENANCE, pack
from tests.rules.admin_forms import change_form_data, inline_index, inline_prefix
from tests.rules.test_admin import form_data, url

SEVEN = "File within 7 days of the decision (department 971)."


def made_up() -> dict[str, Any]:
    data = pack(authority_table="offices", authority_outcome="office")
    data["lookup_tables"].append(
        {
            "key": "offices",
            "label": "Offices",
            "versions": [
                {
                    **PROVENANCE,
                    "confidence": "likely",
                    "rows": [
                        {"key": "75", "value": "75", "label": "Office of 75"},
                        {"key": "57", "value": "57", "label": "Office of 57"},
                        {
                            "key": "971",
                            "value": "971",
                            "label": "Office of 971",
                            "confidence": "certain",
                            "notes": "Confirmed by the order's annex.",
                        },
                    ],
                }
            ],
        }
    )
    rule = data["deadline_rules"][0]
    rule["description"] = "File within the time limit."
    general = rule["versions"][0]
    rule["versions"].append(
        {**general, "version": 2, "offset": 7, "departments": ["971"], "description": SEVEN}
    )
    return data


def text_of(data: dict[str, Any]) -> str:
    return pack_file_text(dump_pack(parse_pack(data)))


@pytest.fixture
def demo(db: None) -> PackVersion:
    return load_pack(json.loads(text_of(made_up())))


@pytest.fixture
def draft(demo: PackVersion) -> PackVersion:
    return copy_as_draft(demo)


@pytest.fixture
def legal(django_user_model: type[User]) -> Client:
    user = django_user_model.objects.create_superuser("legal", "legal@example.org", "pw")
    return sign_in_verified(Client(), user)


def evaluate(client: APIClient, **request: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/evaluate",
        {"procedure": "demo-filing", "as_of": "2026-03-05", **request},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()  # type: ignore[no-any-return]


def test_row_confidences_and_version_descriptions_export_exactly_as_loaded(
    db: None, tmp_path: Path
) -> None:
    source = tmp_path / "made-up.json"
    source.write_text(text_of(made_up()), encoding="utf-8")
    call_command("loadrulepack", str(source), stdout=io.StringIO())
    out = io.StringIO()
    call_command("exportrulepack", "demo-filing", stdout=out)
    assert out.getvalue() == source.read_text(encoding="utf-8")
    row = LookupRow.objects.get(key="971", table_version__table__key="offices")
    assert (row.confidence, row.notes) == ("certain", "Confirmed by the order's annex.")
    assert LookupRow.objects.get(key="75", table_version__table__key="offices").confidence == ""
    assert DeadlineRuleVersion.objects.get(rule__key="filing", version=2).description == SEVEN
    assert DeadlineRuleVersion.objects.get(rule__key="filing", version=1).description == ""


def test_the_api_gives_the_rows_confidence_and_the_versions_description(
    demo: PackVersion, token_client: APIClient
) -> None:
    events = [{"type": "decision", "date": "2026-03-02"}]
    overseas = evaluate(token_client, department="971", events=events)
    paris = evaluate(token_client, department="75", events=events)
    assert overseas["office"] == {
        "department": "971",
        "name": "Office of 971",
        "confidence": "certain",
    }
    assert paris["office"]["confidence"] == "likely"
    assert overseas["deadlines"][0]["description"] == SEVEN
    assert paris["deadlines"][0]["description"] == "File within the time limit."


def _rows_page(legal: Client, draft: PackVersion) -> tuple[Any, LookupTableVersion]:
    version = LookupTableVersion.objects.get(table__pack_version=draft, table__key="offices")
    return legal.get(url(version)), version


def test_the_admin_edits_a_rows_confidence_inline_and_the_engine_uses_it(
    draft: PackVersion, legal: Client
) -> None:
    page, version = _rows_page(legal, draft)
    data = change_form_data(page)
    prefix = inline_prefix(page, "lookuprow")
    row = inline_index(data, prefix, "key", "57")
    data[f"{prefix}-{row}-confidence"] = "unsure"
    data[f"{prefix}-{row}-notes"] = "The order may have changed."
    data["change_reason"] = "57 is unsure"
    response = legal.post(url(version), data)
    assert response.status_code == 302
    parsed = definition(PackVersion.objects.get(pk=draft.pk))
    rows = {r.key: r for r in parsed.lookup_tables[1].versions[0].rows}
    assert (rows["57"].confidence, rows["57"].notes) == ("unsure", "The order may have changed.")
    assert rows["75"].confidence == ""


def test_the_admin_refuses_a_row_confidence_outside_the_choices(
    draft: PackVersion, legal: Client
) -> None:
    page, version = _rows_page(legal, draft)
    data = change_form_data(page)
    prefix = inline_prefix(page, "lookuprow")
    row = inline_index(data, prefix, "key", "57")
    data[f"{prefix}-{row}-confidence"] = "sure"
    data["change_reason"] = "test"
    response = legal.post(url(version), data)
    assert response.status_code == 200
    formset = next(
        i.formset for i in response.context["inline_admin_formsets"] if i.formset.model is LookupRow
    )
    assert "confidence" in formset.forms[row].errors
    assert LookupRow.objects.get(table_version=version, key="57").confidence == ""


def test_the_admin_saves_a_versions_description(draft: PackVersion, legal: Client) -> None:
    version = DeadlineRuleVersion.objects.get(
        rule__pack_version=draft, rule__key="filing", version=1
    )
    page = legal.get(url(version)).content.decode()
    assert 'name="description"' in page
    response = legal.post(
        url(version),
        form_data(version, description="File within 8 days.", change_reason="its own words"),
    )
    assert response.status_code == 302
    parsed = definition(PackVersion.objects.get(pk=draft.pk))
    assert parsed.deadline_rules[0].versions[0].description == "File within 8 days."


def test_a_new_table_version_keeps_each_rows_confidence_and_notes(
    draft: PackVersion, django_user_model: type[User]
) -> None:
    legal = django_user_model.objects.create_superuser("legal2", "legal2@example.org", "pw")
    source = LookupTableVersion.objects.get(table__pack_version=draft, table__key="offices")
    new = workbench.add_version(
        source,
        effective_from=dt.date(2026, 6, 1),
        changes={},
        user=legal,
        reason="the order changes in June",
    )
    row = new.rows.get(key="971")
    assert (row.confidence, row.notes) == ("certain", "Confirmed by the order's annex.")
    assert new.rows.get(key="75").confidence == ""
