"""Pack version 2 (the legal review of November 2026), shipped as the published version.

`rules/packs/asylum-reexamination/v2/` holds version 2 and its hand-worked scenarios;
`loadrulepack` publishes it after version 1 (tests/rules/test_shipped_pack_versions.py). These
tests keep it valid and its scenarios true, loaded as a draft beside version 1 as an import in
the admin does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rules.engine.pack import parse_pack
from rules.models import PackVersion
from rules.packstore import load_pack
from rules.scenarios import compare
from rules.services import evaluate_request

NEXT = Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination" / "v2"
SCENARIOS = sorted((NEXT / "scenarios").glob("*.json"))


def next_pack() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((NEXT / "pack.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def next_draft(asylum_pack: PackVersion) -> PackVersion:
    """Version 2 loaded as a draft of the shipped pack, as an import in the admin does."""
    return load_pack(next_pack(), status=PackVersion.Status.DRAFT)


def test_version_2_is_a_valid_pack_with_every_text_in_french() -> None:
    pack = parse_pack(next_pack())
    assert pack.version == 2
    french = pack.translations.get("fr", {})
    assert french.get(pack.name), "the pack's name has no French"
    assert "asylum" not in french[pack.name].lower()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_version_2_gives_each_hand_worked_result(path: Path, next_draft: PackVersion) -> None:
    scenario = json.loads(path.read_text(encoding="utf-8"))
    result = evaluate_request(scenario["request"], pack_version_id=next_draft.pk)
    problems = compare(scenario["expect"], result, giver="version 2")
    assert not problems, f"{scenario['description']}\n" + "\n".join(problems)
