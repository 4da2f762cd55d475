"""Pack files in the admin: a dry run shows the changes and writes nothing; confirming creates a
draft; a malformed file is refused with field and line; any version exports as the command does."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from rules.models import DeadlineRuleVersion, PackVersion
from rules.pack_files import PackFileError, preview_import, read_pack_file
from tests.conftest import sign_in_verified

SHIPPED = Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination"
PACK_FILE = SHIPPED / "pack.json"
IMPORT_URL = "/admin/rules/workbench/import/"


@pytest.fixture
def legal(django_user_model: type[User]) -> Client:
    user = django_user_model.objects.create_superuser("legal", "legal@example.org", "pw")
    return sign_in_verified(Client(), user)


def shipped() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PACK_FILE.read_text(encoding="utf-8"))
    return data


def submission(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    index = next(i for i, d in enumerate(data["deadline_rules"]) if d["key"] == "ofpra_submission")
    return index, data["deadline_rules"][index]


def changed_file() -> str:
    data = shipped()
    _, rule = submission(data)
    rule["versions"][-1]["offset"] = 10
    data["warnings"] = data["warnings"][1:]
    return json.dumps(data, ensure_ascii=False, indent=2)


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("pack.json", text.encode("utf-8"), content_type="application/json")


def test_the_dry_run_lists_changed_fields_and_removed_records(asylum_pack: PackVersion) -> None:
    preview = preview_import(changed_file())
    assert preview.base == asylum_pack
    changed = [c for c in preview.changes if c.kind == "changed"]
    assert len(changed) == 1
    assert changed[0].record.startswith("deadline_rules ofpra_submission / versions")
    _, rule = submission(shipped())
    assert changed[0].fields == [("offset", rule["versions"][-1]["offset"], 10)]
    assert [c.kind for c in preview.changes if c.kind != "changed"] == ["removed"]


def test_the_dry_run_page_shows_the_changes_and_creates_nothing(
    asylum_pack: PackVersion, legal: Client
) -> None:
    before = PackVersion.objects.count()
    response = legal.post(IMPORT_URL, {"file": upload(changed_file())})
    assert response.status_code == 200
    page = response.content.decode()
    assert "ofpra_submission" in page
    assert "offset" in page
    assert 'name="confirm"' in page
    assert PackVersion.objects.count() == before


def test_confirming_creates_a_draft_with_the_reason_and_leaves_the_published_version(
    asylum_pack: PackVersion, legal: Client
) -> None:
    published_offsets = list(
        DeadlineRuleVersion.objects.filter(rule__pack_version=asylum_pack).values_list(
            "offset", flat=True
        )
    )
    response = legal.post(
        IMPORT_URL,
        {"content": changed_file(), "reason": "Décret 2026-123", "confirm": "1"},
    )
    assert response.status_code == 302
    draft = PackVersion.objects.get(pack=asylum_pack.pack, number=asylum_pack.number + 1)
    assert draft.status == PackVersion.Status.DRAFT
    version = DeadlineRuleVersion.objects.filter(
        rule__pack_version=draft, rule__key="ofpra_submission"
    ).order_by("-version")[0]
    assert version.offset == 10
    record = version.history.earliest()
    assert record.history_change_reason == "Décret 2026-123"
    assert record.history_user.username == "legal"
    asylum_pack.refresh_from_db()
    assert asylum_pack.status == PackVersion.Status.PUBLISHED
    assert (
        list(
            DeadlineRuleVersion.objects.filter(rule__pack_version=asylum_pack).values_list(
                "offset", flat=True
            )
        )
        == published_offsets
    )


def test_a_json_syntax_error_is_refused_with_its_line(
    asylum_pack: PackVersion, legal: Client
) -> None:
    text = PACK_FILE.read_text(encoding="utf-8").replace(
        '"format": "rulepack/1",', '"format": "rulepack/1"', 1
    )
    with pytest.raises(PackFileError) as error:
        read_pack_file(text)
    assert error.value.problems[0].line == 3
    response = legal.post(IMPORT_URL, {"file": upload(text)})
    page = response.content.decode()
    assert "line 3" in page or "ligne 3" in page
    assert PackVersion.objects.filter(pack=asylum_pack.pack).count() == 1


def test_a_validation_error_names_the_field_path_and_its_line(
    asylum_pack: PackVersion, legal: Client
) -> None:
    data = shipped()
    index, rule = submission(data)
    rule["versions"][0]["offset"] = -3
    text = json.dumps(data, ensure_ascii=False, indent=2)
    expected_line = next(
        number for number, line in enumerate(text.splitlines(), start=1) if '"offset": -3' in line
    )
    with pytest.raises(PackFileError) as error:
        read_pack_file(text)
    problem = next(p for p in error.value.problems if p.path.endswith(".offset"))
    assert problem.path == f"deadline_rules[{index}].versions[0].offset"
    assert problem.line == expected_line
    response = legal.post(IMPORT_URL, {"file": upload(text)}, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert f"deadline_rules[{index}].versions[0].offset" in page
    assert str(expected_line) in page
    assert PackVersion.objects.filter(pack=asylum_pack.pack).count() == 1


def test_the_export_button_gives_the_same_bytes_as_the_command(
    asylum_pack: PackVersion, legal: Client
) -> None:
    out = io.StringIO()
    call_command("exportrulepack", "asylum-reexamination", "--pack-version", "1", stdout=out)
    response = legal.get(f"/admin/rules/workbench/export/{asylum_pack.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content == out.getvalue().encode("utf-8")
    change_page = legal.get(f"/admin/rules/packversion/{asylum_pack.pk}/change/").content.decode()
    assert f"/admin/rules/workbench/export/{asylum_pack.pk}/" in change_page


def test_importing_needs_the_permission_to_add_pack_versions(
    asylum_pack: PackVersion, django_user_model: type[User]
) -> None:
    staff = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get(IMPORT_URL).status_code == 403
