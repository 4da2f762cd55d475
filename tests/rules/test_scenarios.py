"""The shipped pack's scenario files (request and expected result, as data) hold over the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from rules.scenarios import compare

SCENARIOS = sorted(
    (Path(__file__).resolve().parents[2] / "rules" / "packs").glob("*/scenarios/*.json")
)


def test_the_pack_ships_scenarios() -> None:
    assert len(SCENARIOS) >= 40


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_gives_the_hand_worked_result(
    path: Path, asylum_pack: object, token_client: APIClient
) -> None:
    scenario = json.loads(path.read_text(encoding="utf-8"))
    response = token_client.post("/api/v1/evaluate", scenario["request"], format="json")
    assert response.status_code == 200, response.json()
    problems = compare(scenario["expect"], response.json())
    assert not problems, f"{scenario['description']}\n" + "\n".join(problems)
