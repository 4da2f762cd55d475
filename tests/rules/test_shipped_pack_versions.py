"""`loadrulepack` without files: every shipped version in order, the highest published as shipped.

What `make run` and the deployment run. The shipped files are `<pack>/pack.json` and
`<pack>/v<n>/pack.json`, ordered by the version each declares; the highest is published through
the workbench (rules.workbench.publish_shipped): its scenarios must pass, the previous version
retires, open cases are re-evaluated (tests/cases/test_shipped_version_reevaluates_open_cases.py).
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rules import workbench
from rules.management.commands import loadrulepack
from rules.models import DeadlineRuleVersion, PackVersion, RulePack, Scenario
from rules.packstore import load_pack

PACK_DIR = Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination"
V1 = PACK_DIR / "pack.json"
V2 = PACK_DIR / "v2" / "pack.json"
KEY = "asylum-reexamination"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def statuses(key: str = KEY) -> list[tuple[int, str]]:
    return list(
        PackVersion.objects.filter(pack__key=key).order_by("number").values_list("number", "status")
    )


@pytest.fixture
def no_packs(db: None) -> None:
    """A test database without any rule pack (the test session loaded version 1)."""
    PackVersion.objects.all().delete()
    RulePack.objects.all().delete()


@pytest.mark.usefixtures("no_packs")
def test_a_fresh_database_gets_version_2_published_and_version_1_unchanged_in_the_history() -> None:
    out, err = run("loadrulepack")
    assert err == ""
    assert f"{KEY} v1: loaded (published)" in out
    assert f"{KEY} v2: published" in out
    assert statuses() == [(1, "retired"), (2, "published")]
    v2 = PackVersion.objects.get(pack__key=KEY, number=2)
    # Who and why, honestly: no person published it; the file and the review are named.
    assert v2.published_by is None
    assert v2.publish_reason.startswith(
        "shipped pack file rules/packs/asylum-reexamination/v2/pack.json, reviewed in the "
        "repository: "
    )
    assert "section 7" in v2.publish_reason
    # Version 1's content is the file's, byte for byte; version 2's too.
    assert run("exportrulepack", KEY, "--pack-version", "1")[0] == V1.read_text(encoding="utf-8")
    assert run("exportrulepack", KEY, "--pack-version", "2")[0] == V2.read_text(encoding="utf-8")


@pytest.mark.usefixtures("no_packs")
def test_the_pack_keeps_version_2s_scenarios_and_they_all_pass() -> None:
    run("loadrulepack")
    names = {json.loads(p.read_text("utf-8"))["name"] for p in (V2.parent / "scenarios").glob("*")}
    pack = RulePack.objects.get(key=KEY)
    assert set(pack.scenarios.values_list("name", flat=True)) == names
    # The version-1 scenario that version 2 replaced is gone, its deletion in the history.
    gone = Scenario.history.filter(pack_id=pack.pk, history_type="-").get()
    assert gone.name not in names
    assert "not among the scenarios of" in (gone.history_change_reason or "")
    assert workbench.content_problems(PackVersion.objects.get(pack=pack, number=2)) == []


@pytest.mark.usefixtures("no_packs")
def test_a_second_run_loads_nothing_and_publishes_nothing() -> None:
    run("loadrulepack")
    counts = (
        PackVersion.objects.count(),
        DeadlineRuleVersion.objects.count(),
        Scenario.objects.count(),
        Scenario.history.count(),
    )
    revisions = list(PackVersion.objects.order_by("number").values_list("revision", "status"))
    out, err = run("loadrulepack")
    assert err == ""
    assert f"{KEY} v1: already loaded (retired)" in out
    assert f"{KEY} v2: already loaded (published)" in out
    assert "published (" not in out
    assert (
        PackVersion.objects.count(),
        DeadlineRuleVersion.objects.count(),
        Scenario.objects.count(),
        Scenario.history.count(),
    ) == counts
    assert list(PackVersion.objects.order_by("number").values_list("revision", "status")) == (
        revisions
    )


def test_a_database_where_version_1_was_published_gets_version_2_on_the_next_run(
    asylum_pack: PackVersion,
) -> None:
    """`asylum_pack` is the database an earlier `make run` left: version 1 published."""
    assert statuses() == [(1, "published")]
    out, err = run("loadrulepack")
    assert err == ""
    assert f"{KEY} v1: already loaded (published)" in out
    assert statuses() == [(1, "retired"), (2, "published")]


@pytest.mark.usefixtures("no_packs")
def test_legal_staffs_own_version_2_is_kept_and_the_shipped_file_loads_as_a_draft_beside_it(
    django_user_model: Any,
) -> None:
    """Not overwritten silently: their v2 stays published, the file becomes draft v3, and
    the command says so (on stderr, exit status 0 so that the service still starts)."""
    run("loadrulepack", str(V1))
    theirs = copy.deepcopy(json.loads(V1.read_text(encoding="utf-8")))
    theirs["version"] = 2
    theirs["description"] = "Our own corrections"
    publisher = django_user_model.objects.create_superuser("lawyer", "l@example.org", "pw")
    draft = load_pack(theirs, status=PackVersion.Status.DRAFT)
    workbench.publish(draft, user=publisher, reason="our review")
    out, err = run("loadrulepack")
    assert "is not the shipped file rules/packs/asylum-reexamination/v2/pack.json" in err
    assert "loaded as draft v3, NOT published" in err
    assert statuses() == [(1, "retired"), (2, "published"), (3, "draft")]
    assert PackVersion.objects.get(number=2).description == "Our own corrections"
    # Again: nothing new.
    out, err = run("loadrulepack")
    assert f"{KEY} v2: already loaded as v3 (draft)" in out
    assert statuses() == [(1, "retired"), (2, "published"), (3, "draft")]


# --- made-up packs: the order, and a scenario that blocks ----------------------------------


def made_up_pack(version: int, offset: int) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(json.loads(V1.read_text(encoding="utf-8")))
    data["key"] = "made-up"
    data["version"] = version
    data["translations"] = {}
    for rule in data["deadline_rules"]:
        if rule["key"] == "ofpra_submission":
            for rule_version in rule["versions"]:
                rule_version["offset"] = offset
    return data


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def scenario(due: str) -> dict[str, Any]:
    return {
        "name": "registered-6-may-2026",
        "request": {
            "procedure": "made-up",
            "department": "75",
            "as_of": "2026-05-07",
            "events": [{"type": "registration", "date": "2026-05-06"}],
        },
        "expect": {"deadlines": {"ofpra_submission": {"due": due}}},
    }


@pytest.fixture
def shipped_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(loadrulepack, "SHIPPED", tmp_path)
    return tmp_path / "made-up"


@pytest.mark.usefixtures("no_packs")
def test_versions_load_in_the_order_they_declare_and_the_highest_is_published(
    shipped_here: Path,
) -> None:
    write(shipped_here / "pack.json", made_up_pack(1, 8))
    write(shipped_here / "v10" / "pack.json", made_up_pack(10, 12))
    write(shipped_here / "v2" / "pack.json", made_up_pack(2, 10))
    write(shipped_here / "v10" / "scenarios" / "a.json", scenario("2026-05-18"))
    out, err = run("loadrulepack")
    assert err == ""
    assert out.index("made-up v1:") < out.index("made-up v2:") < out.index("made-up v10:")
    assert "made-up v2 stays a draft: a later shipped version is published" in out
    assert statuses("made-up") == [(1, "retired"), (2, "draft"), (10, "published")]


@pytest.mark.usefixtures("no_packs")
def test_two_files_declaring_one_version_are_refused(shipped_here: Path) -> None:
    write(shipped_here / "pack.json", made_up_pack(1, 8))
    write(shipped_here / "v2" / "pack.json", made_up_pack(1, 10))
    with pytest.raises(CommandError, match="both declare version 1"):
        run("loadrulepack")


@pytest.mark.usefixtures("no_packs")
def test_a_shipped_version_that_breaks_a_scenario_stays_a_draft_and_says_why(
    shipped_here: Path,
) -> None:
    write(shipped_here / "pack.json", made_up_pack(1, 8))
    write(shipped_here / "scenarios" / "a.json", scenario("2026-05-14"))
    run("loadrulepack")
    # Legal staff changed the shipped scenario: it is theirs now (version 2's file does not
    # replace it), and version 2 breaks it.
    theirs = scenario("2026-05-14")["expect"]
    theirs["deadlines"]["ofpra_submission"]["non_working_day"] = True  # Ascension Day
    Scenario.objects.filter(name="registered-6-may-2026").update(expect=theirs)
    write(shipped_here / "v2" / "pack.json", made_up_pack(2, 10))
    write(shipped_here / "v2" / "scenarios" / "a.json", scenario("2026-05-16"))
    _, err = run("loadrulepack")
    assert "made-up v2 was NOT published; it stays a draft and v1 stays published" in err
    assert "ofpra_submission: expected 2026-05-14, the draft gives 2026-05-16" in err
    assert statuses("made-up") == [(1, "published"), (2, "draft")]


@pytest.mark.usefixtures("no_packs")
def test_a_shipped_scenario_follows_the_version_that_changes_it(shipped_here: Path) -> None:
    write(shipped_here / "pack.json", made_up_pack(1, 8))
    write(shipped_here / "scenarios" / "a.json", scenario("2026-05-14"))
    run("loadrulepack")
    write(shipped_here / "v2" / "pack.json", made_up_pack(2, 10))
    write(shipped_here / "v2" / "scenarios" / "a.json", scenario("2026-05-16"))
    out, err = run("loadrulepack")
    assert err == ""
    assert "made-up: 1 scenario(s) updated from the shipped files" in out
    assert statuses("made-up") == [(1, "retired"), (2, "published")]
    kept = Scenario.objects.get(name="registered-6-may-2026")
    assert kept.expect["deadlines"]["ofpra_submission"]["due"] == "2026-05-16"
