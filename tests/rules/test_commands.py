"""The management commands: loadrulepack, exportrulepack, evaluate and issue_api_token.

In-process runs use call_command against the test database; exit codes are checked with real
`python manage.py` subprocesses on a temporary, migrated SQLite file.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rules.models import DeadlineRuleVersion, PackVersion, RulePack

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "rules" / "packs" / "asylum-reexamination"
SHIPPED = PACK_DIR / "pack.json"
API_EXAMPLE = PACK_DIR / "api-example.json"
KEY = "asylum-reexamination"
TOKEN_KEY = re.compile(r"[0-9a-f]{40}")


def shipped_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SHIPPED.read_text(encoding="utf-8"))
    return data


def rule_index(data: dict[str, Any], key: str) -> int:
    return [rule["key"] for rule in data["deadline_rules"]].index(key)


def write_pack(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    data = copy.deepcopy(shipped_data())
    change(data)
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def ofpra_submission_offset_10(data: dict[str, Any]) -> None:
    for version in data["deadline_rules"][rule_index(data, "ofpra_submission")]["versions"]:
        assert version["offset"] == 8
        version["offset"] = 10


def run(*args: str, stdout: io.StringIO | None = None, stderr: io.StringIO | None = None) -> str:
    out = stdout if stdout is not None else io.StringIO()
    call_command(*args, stdout=out, stderr=stderr if stderr is not None else io.StringIO())
    return out.getvalue()


def api_evaluate(client: APIClient, raw: bytes) -> Any:
    return client.post("/api/v1/evaluate", data=raw, content_type="application/json")


@pytest.fixture
def no_packs(db: None) -> None:
    """A test database without any rule pack (the test session may have loaded one)."""
    PackVersion.objects.all().delete()
    RulePack.objects.all().delete()


# --- subprocesses on a temporary SQLite file ------------------------------------------------


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every migration applied, made once and copied by each test."""
    path = tmp_path_factory.mktemp("commands-db") / "migrated.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=sqlite_env(path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return path


def sqlite_env(path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DATABASE_URL"] = f"sqlite:///{path}"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


class Manage:
    """`python manage.py ...` in a subprocess, on a copy of the migrated SQLite file."""

    def __init__(self, database: Path) -> None:
        self.env = sqlite_env(database)

    def __call__(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin.decode() if stdin is not None else None,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
def manage(migrated_sqlite: Path, tmp_path: Path) -> Manage:
    database = tmp_path / "db.sqlite3"
    shutil.copy(migrated_sqlite, database)
    return Manage(database)


# --- loadrulepack ---------------------------------------------------------------------------


@pytest.mark.usefixtures("no_packs")
def test_loadrulepack_publishes_the_first_version_of_a_pack_file() -> None:
    output = run("loadrulepack", str(SHIPPED))
    assert f"{KEY} v1: loaded (published)" in output
    version = PackVersion.objects.get(pack__key=KEY)
    assert version.number == 1
    assert version.status == PackVersion.Status.PUBLISHED
    assert version.published_at is not None


@pytest.mark.usefixtures("no_packs")
def test_a_second_loadrulepack_says_already_loaded_and_creates_nothing() -> None:
    run("loadrulepack", str(SHIPPED))
    counts = (PackVersion.objects.count(), DeadlineRuleVersion.objects.count())
    revision = PackVersion.objects.get().revision
    output = run("loadrulepack", str(SHIPPED))
    assert f"{KEY} v1: already loaded" in output
    assert (PackVersion.objects.count(), DeadlineRuleVersion.objects.count()) == counts
    assert PackVersion.objects.get().revision == revision


@pytest.mark.usefixtures("no_packs")
def test_loadrulepack_draft_loads_a_draft_that_the_api_does_not_use(
    token_client: APIClient,
) -> None:
    output = run("loadrulepack", "--draft")
    assert f"{KEY} v1: loaded (draft)" in output
    assert set(PackVersion.objects.values_list("status", flat=True)) == {"draft"}
    response = api_evaluate(token_client, API_EXAMPLE.read_bytes())
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "procedure"


@pytest.mark.usefixtures("no_packs")
def test_a_changed_pack_with_the_same_version_number_is_refused(tmp_path: Path) -> None:
    run("loadrulepack", str(SHIPPED))
    changed = write_pack(tmp_path, ofpra_submission_offset_10)
    with pytest.raises(CommandError) as refused:
        run("loadrulepack", str(changed))
    message = str(refused.value)
    assert f"{KEY} v1 exists with other content" in message
    assert "--as-new-version" in message
    assert PackVersion.objects.count() == 1


@pytest.mark.usefixtures("no_packs")
def test_a_changed_pack_is_loaded_as_the_next_draft_version_with_as_new_version(
    tmp_path: Path, token_client: APIClient
) -> None:
    run("loadrulepack", str(SHIPPED))
    changed = write_pack(tmp_path, ofpra_submission_offset_10)
    output = run("loadrulepack", "--as-new-version", str(changed))
    # A later version loads as a draft: publishing it is the workbench's four-eyes step.
    assert f"{KEY} v2: loaded (draft)" in output
    assert "--publish" in output
    assert token_client.get("/api/v1/packs").json()["packs"][0]["version"] == 1
    new = PackVersion.objects.get(pack__key=KEY, number=2)
    offsets = set(
        DeadlineRuleVersion.objects.filter(
            rule__pack_version=new, rule__key="ofpra_submission"
        ).values_list("offset", flat=True)
    )
    assert offsets == {10}
    old = PackVersion.objects.get(pack__key=KEY, number=1)
    assert set(
        DeadlineRuleVersion.objects.filter(
            rule__pack_version=old, rule__key="ofpra_submission"
        ).values_list("offset", flat=True)
    ) == {8}


@pytest.mark.usefixtures("no_packs")
def test_as_new_version_twice_with_the_same_file_creates_one_new_version(tmp_path: Path) -> None:
    run("loadrulepack", str(SHIPPED))
    changed = write_pack(tmp_path, ofpra_submission_offset_10)
    run("loadrulepack", "--as-new-version", str(changed))
    run("loadrulepack", "--as-new-version", str(changed))
    assert sorted(PackVersion.objects.values_list("number", flat=True)) == [1, 2]


@pytest.mark.usefixtures("no_packs")
def test_loadrulepack_refuses_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "pack.json"
    path.write_text('{"format": "rulepack/1",', encoding="utf-8")
    with pytest.raises(CommandError, match="not valid JSON"):
        run("loadrulepack", str(path))
    assert not RulePack.objects.exists()


@pytest.mark.usefixtures("no_packs")
def test_loadrulepack_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        run("loadrulepack", str(tmp_path / "missing.json"))


def set_in_ofpra_submission(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["deadline_rules"][rule_index(data, "ofpra_submission")]["versions"][0][name] = value

    return change


BROKEN = [
    ("trigger_event", "teleportation", "no event type"),
    ("offset", -8, "expected a number"),
    ("confidence", "probable", "expected one of certain, likely, unsure"),
]


@pytest.mark.usefixtures("no_packs")
@pytest.mark.parametrize(("name", "value", "message"), BROKEN)
def test_loadrulepack_refuses_a_broken_pack_naming_the_field_path(
    tmp_path: Path, name: str, value: Any, message: str
) -> None:
    path = write_pack(tmp_path, set_in_ofpra_submission(name, value))
    index = rule_index(shipped_data(), "ofpra_submission")
    with pytest.raises(CommandError) as refused:
        run("loadrulepack", str(path))
    text = str(refused.value)
    assert f"deadline_rules[{index}].versions[0].{name}: {message}" in text
    assert str(path) in text
    assert not RulePack.objects.exists()


@pytest.mark.usefixtures("no_packs")
def test_loadrulepack_lists_every_error_of_a_broken_pack(tmp_path: Path) -> None:
    # Field errors found while reading the file are listed together; references between records
    # (e.g. an unknown trigger_event) are checked once the fields themselves read correctly.
    def change(data: dict[str, Any]) -> None:
        set_in_ofpra_submission("offset", -8)(data)
        set_in_ofpra_submission("confidence", "probable")(data)
        data["event_types"][0]["code"] = "Not A Code"

    with pytest.raises(CommandError) as refused:
        run("loadrulepack", str(write_pack(tmp_path, change)))
    text = str(refused.value)
    assert ".versions[0].offset:" in text
    assert ".versions[0].confidence:" in text
    assert "event_types[0].code:" in text


def test_loadrulepack_exits_zero_then_says_already_loaded_in_a_subprocess(manage: Manage) -> None:
    first = manage("loadrulepack")
    assert first.returncode == 0, first.stderr
    assert f"{KEY} v1: loaded (published)" in first.stdout
    second = manage("loadrulepack")
    assert second.returncode == 0, second.stderr
    assert f"{KEY} v1: already loaded" in second.stdout


def test_loadrulepack_exits_non_zero_on_a_changed_pack_in_a_subprocess(
    manage: Manage, tmp_path: Path
) -> None:
    assert manage("loadrulepack", str(SHIPPED)).returncode == 0
    changed = write_pack(tmp_path, ofpra_submission_offset_10)
    refused = manage("loadrulepack", str(changed))
    assert refused.returncode != 0
    assert "exists with other content" in refused.stderr
    accepted = manage("loadrulepack", "--as-new-version", str(changed))
    assert accepted.returncode == 0, accepted.stderr
    assert f"{KEY} v2: loaded (draft)" in accepted.stdout


@pytest.mark.parametrize(("name", "value", "message"), BROKEN)
def test_loadrulepack_exits_non_zero_on_a_broken_pack_in_a_subprocess(
    manage: Manage, tmp_path: Path, name: str, value: Any, message: str
) -> None:
    path = write_pack(tmp_path, set_in_ofpra_submission(name, value))
    index = rule_index(shipped_data(), "ofpra_submission")
    result = manage("loadrulepack", str(path))
    assert result.returncode != 0
    assert f"deadline_rules[{index}].versions[0].{name}: {message}" in result.stderr
    assert "Traceback" not in result.stderr


def test_loadrulepack_exits_non_zero_on_a_file_that_is_not_json_in_a_subprocess(
    manage: Manage, tmp_path: Path
) -> None:
    path = tmp_path / "broken.json"
    path.write_text("not json at all", encoding="utf-8")
    result = manage("loadrulepack", str(path))
    assert result.returncode != 0
    assert "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


# --- exportrulepack -------------------------------------------------------------------------


def test_exportrulepack_writes_the_shipped_pack_file_byte_for_byte(
    asylum_pack: PackVersion,
) -> None:
    assert run("exportrulepack", KEY) == SHIPPED.read_text(encoding="utf-8")


def test_exportrulepack_output_option_writes_the_file(
    asylum_pack: PackVersion, tmp_path: Path
) -> None:
    target = tmp_path / "exported.json"
    assert run("exportrulepack", KEY, "-o", str(target)) == ""
    assert target.read_bytes() == SHIPPED.read_bytes()


def test_an_exported_pack_loads_back_as_already_loaded(
    asylum_pack: PackVersion, tmp_path: Path
) -> None:
    target = tmp_path / "exported.json"
    run("exportrulepack", KEY, "--output", str(target))
    assert f"{KEY} v1: already loaded" in run("loadrulepack", str(target))


def test_exportrulepack_exports_a_chosen_version(asylum_pack: PackVersion) -> None:
    assert json.loads(run("exportrulepack", KEY, "--pack-version", "1"))["version"] == 1
    with pytest.raises(CommandError, match="no such pack version"):
        run("exportrulepack", KEY, "--pack-version", "9")


@pytest.mark.usefixtures("no_packs")
def test_exportrulepack_refuses_an_unknown_pack() -> None:
    with pytest.raises(CommandError, match="no such pack version: nope"):
        run("exportrulepack", "nope")


def test_exportrulepack_round_trip_and_exit_codes_in_a_subprocess(
    manage: Manage, tmp_path: Path
) -> None:
    assert manage("loadrulepack", str(SHIPPED)).returncode == 0
    exported = manage("exportrulepack", KEY)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.encode() == SHIPPED.read_bytes()
    target = tmp_path / "out.json"
    written = manage("exportrulepack", KEY, "-o", str(target))
    assert written.returncode == 0, written.stderr
    assert target.read_bytes() == SHIPPED.read_bytes()
    unknown = manage("exportrulepack", "nope")
    assert unknown.returncode != 0
    assert "no such pack version" in unknown.stderr


# --- evaluate -------------------------------------------------------------------------------


def evaluate_command(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("evaluate", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def test_evaluate_file_prints_exactly_what_the_api_returns(
    asylum_pack: PackVersion, token_client: APIClient
) -> None:
    response = api_evaluate(token_client, API_EXAMPLE.read_bytes())
    assert response.status_code == 200
    code, out, _ = evaluate_command(str(API_EXAMPLE))
    assert code == 0
    assert json.loads(out) == response.json()


def test_evaluate_stdin_prints_exactly_what_the_api_returns(
    asylum_pack: PackVersion, token_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = API_EXAMPLE.read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code, out, _ = evaluate_command("-")
    assert code == 0
    assert json.loads(out) == api_evaluate(token_client, raw).json()


MALFORMED = [
    b"not json",
    b"[]",
    b'{"procedure": "nope", "department": "54"}',
    json.dumps(
        {
            **json.loads(API_EXAMPLE.read_text(encoding="utf-8")),
            "department": "96",
            "as_of": "2026-02-30",
            "extra": 1,
        }
    ).encode(),
    b"[" * 100_000 + b"]" * 100_000,
    b'{"procedure": "asylum-reexamination", "department": "54", "x": "' + b"y" * 1_000_000 + b'"}',
]


@pytest.mark.parametrize("raw", MALFORMED, ids=lambda raw: repr(raw[:30]))
def test_evaluate_exits_non_zero_with_the_api_errors_on_a_malformed_request(
    asylum_pack: PackVersion, token_client: APIClient, tmp_path: Path, raw: bytes
) -> None:
    path = tmp_path / "case.json"
    path.write_bytes(raw)
    response = api_evaluate(token_client, raw)
    assert response.status_code == 400
    code, out, err = evaluate_command(str(path))
    assert code != 0
    assert out == ""
    assert json.loads(err) == response.json()


def test_evaluate_exits_non_zero_naming_a_missing_file(
    asylum_pack: PackVersion, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.json"
    code, out, err = evaluate_command(str(missing))
    assert code != 0
    assert out == ""
    errors = json.loads(err)["errors"]
    assert str(missing) in errors[0]["message"]
    assert "No such file" in errors[0]["message"]


def test_evaluate_in_a_subprocess_matches_the_api_and_exits_non_zero_on_bad_input(
    manage: Manage, asylum_pack: PackVersion, token_client: APIClient, tmp_path: Path
) -> None:
    assert manage("loadrulepack", str(SHIPPED)).returncode == 0
    raw = API_EXAMPLE.read_bytes()
    expected = api_evaluate(token_client, raw).json()

    from_file = manage("evaluate", str(API_EXAMPLE))
    assert from_file.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout) == expected

    from_stdin = manage("evaluate", "-", stdin=raw)
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert json.loads(from_stdin.stdout) == expected

    bad = json.dumps({**json.loads(raw), "events": [{"type": "x", "date": "2026-13-01"}]})
    refused = manage("evaluate", "-", stdin=bad.encode())
    assert refused.returncode != 0
    assert refused.stdout == ""
    assert json.loads(refused.stderr) == api_evaluate(token_client, bad.encode()).json()

    missing = manage("evaluate", str(tmp_path / "missing.json"))
    assert missing.returncode != 0
    assert "missing.json" in missing.stderr


# --- issue_api_token ------------------------------------------------------------------------


def issued_key(*args: str) -> str:
    output = run("issue_api_token", *args)
    last = output.rstrip("\n").splitlines()[-1]
    assert TOKEN_KEY.fullmatch(last), output
    return last


def test_issue_api_token_prints_a_key_that_authenticates_the_api(
    user: User, asylum_pack: PackVersion
) -> None:
    key = issued_key(user.username)
    assert Token.objects.get(user=user).key == key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_evaluate(client, API_EXAMPLE.read_bytes()).status_code == 200


def test_issue_api_token_again_prints_the_same_key(user: User) -> None:
    assert issued_key(user.username) == issued_key(user.username)
    assert Token.objects.filter(user=user).count() == 1


def test_issue_api_token_rotate_prints_a_new_key_and_the_old_one_stops_working(
    user: User, asylum_pack: PackVersion
) -> None:
    old = issued_key(user.username)
    new = issued_key(user.username, "--rotate")
    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert api_evaluate(client, API_EXAMPLE.read_bytes()).status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert api_evaluate(client, API_EXAMPLE.read_bytes()).status_code == 200


@pytest.mark.django_db
def test_issue_api_token_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        run("issue_api_token", "nobody")
    assert not Token.objects.exists()


def test_issue_api_token_refuses_an_inactive_user(user: User) -> None:
    user.is_active = False
    user.save()
    with pytest.raises(CommandError, match="inactive"):
        run("issue_api_token", user.username)


def test_issue_api_token_in_a_subprocess(manage: Manage) -> None:
    created = manage(
        "createsuperuser", "--noinput", "--username", "bob", "--email", "bob@example.org"
    )
    assert created.returncode == 0, created.stderr
    first = manage("issue_api_token", "bob")
    assert first.returncode == 0, first.stderr
    key = first.stdout.rstrip("\n").splitlines()[-1]
    assert TOKEN_KEY.fullmatch(key), first.stdout
    again = manage("issue_api_token", "bob")
    assert again.returncode == 0
    assert again.stdout.rstrip("\n").splitlines()[-1] == key
    rotated = manage("issue_api_token", "bob", "--rotate")
    assert rotated.returncode == 0
    new_key = rotated.stdout.rstrip("\n").splitlines()[-1]
    assert TOKEN_KEY.fullmatch(new_key)
    assert new_key != key
    unknown = manage("issue_api_token", "nobody")
    assert unknown.returncode != 0
    assert "no user named 'nobody'" in unknown.stderr
    assert unknown.stdout == ""
