"""The shipped pack's scenario files (request and expected result, as data) hold over the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

SCENARIOS = sorted(
    (Path(__file__).resolve().parents[2] / "rules" / "packs").glob("*/scenarios/*.json")
)


def differences(expect: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Compare the fields a scenario lists with the result; unlisted fields are not checked."""
    problems = []
    deadlines = {d["key"]: d for d in result["deadlines"]}
    for key, fields in expect.get("deadlines", {}).items():
        if key not in deadlines:
            problems.append(f"deadline {key} is missing")
            continue
        for name, wanted in fields.items():
            got = deadlines[key].get(name)
            if got != wanted:
                problems.append(
                    f"{key}.{name}: {got!r} instead of {wanted!r} ({deadlines[key]['explanation']})"
                )
    for key in expect.get("absent_deadlines", []):
        if key in deadlines:
            problems.append(f"deadline {key} should not exist (due {deadlines[key]['due']})")
    if "warnings" in expect:
        codes = sorted(w["code"] for w in result["warnings"])
        if codes != sorted(expect["warnings"]):
            problems.append(f"warnings {codes} instead of {sorted(expect['warnings'])}")
    for name in ("competent_prefecture", "admissibility", "right_to_remain"):
        if name not in expect:
            continue
        wanted, got = expect[name], result.get(name)
        if wanted is None or got is None:
            if wanted != got:
                problems.append(f"{name}: {got!r} instead of {wanted!r}")
            continue
        for field, value in wanted.items():
            if got.get(field) != value:
                problems.append(f"{name}.{field}: {got.get(field)!r} instead of {value!r}")
    for name in ("track", "submission_channels"):
        if name in expect and result.get(name) != expect[name]:
            problems.append(f"{name}: {result.get(name)!r} instead of {expect[name]!r}")
    return problems


def test_the_pack_ships_scenarios() -> None:
    assert len(SCENARIOS) >= 40


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_gives_the_hand_worked_result(
    path: Path, asylum_pack: object, token_client: APIClient
) -> None:
    scenario = json.loads(path.read_text(encoding="utf-8"))
    response = token_client.post("/api/v1/evaluate", scenario["request"], format="json")
    assert response.status_code == 200, response.json()
    problems = differences(scenario["expect"], response.json())
    assert not problems, f"{scenario['description']}\n" + "\n".join(problems)
