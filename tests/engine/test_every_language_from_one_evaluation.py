"""A case's results in several languages, from one evaluation, are each exactly what evaluating
in that language alone gives (a stored case keeps its texts in French and English).

evaluate_languages finds dates, statuses, outcomes and warnings once and writes only the texts in
each language; holiday and weekday names are counted in the first language and renamed for the
others. The reference is `evaluate` in a single language.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from rules.engine.evaluate import CompiledPack, compile_pack, evaluate, evaluate_languages
from rules.engine.inputs import CaseFacts, parse_case
from rules.engine.pack import parse_pack
from tests.rules.test_random_timelines import generate_cases

PACKS = Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination"
# Each shipped version with its own scenarios.
VERSIONS = {"v1": PACKS, "v2": PACKS / "v2"}
ORDERS = (["fr", "en"], ["en", "fr"])


def compiled(version: str) -> CompiledPack:
    raw = json.loads((VERSIONS[version] / "pack.json").read_text(encoding="utf-8"))
    return compile_pack(parse_pack(raw))


def parsed(pack: CompiledPack, request: dict[str, Any]) -> CaseFacts:
    today = dt.date.fromisoformat(request["as_of"])
    departments = frozenset(pack.departments_on(today))
    return parse_case(request, pack.definition, departments, today)


def scenario_requests(version: str) -> list[dict[str, Any]]:
    paths = sorted((VERSIONS[version] / "scenarios").glob("*.json"))
    return [json.loads(path.read_text(encoding="utf-8"))["request"] for path in paths]


def differences(pack: CompiledPack, requests: list[dict[str, Any]]) -> list[str]:
    """Where evaluate_languages differs from evaluate in each language alone."""
    found: list[str] = []
    for number, request in enumerate(requests):
        case = parsed(pack, request)
        alone = {language: evaluate(pack, case, language) for language in ("fr", "en")}
        for order in ORDERS:
            together = evaluate_languages(pack, case, order)
            for language in order:
                if together[language] != alone[language]:
                    fields = [
                        name
                        for name in alone[language]
                        if together[language].get(name) != alone[language][name]
                    ]
                    found.append(f"request {number}, {order}, {language}: {fields}")
    return found


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_each_language_of_a_shipped_scenario_is_what_that_language_alone_gives(
    version: str,
) -> None:
    requests = scenario_requests(version)
    assert len(requests) >= 40
    assert differences(compiled(version), requests) == []


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_each_language_of_a_generated_timeline_is_what_that_language_alone_gives(
    version: str,
) -> None:
    assert differences(compiled(version), generate_cases(count=150, seed=20261201)) == []


def test_holiday_and_weekday_names_are_written_in_each_language() -> None:
    """The comparison means something: due dates on holidays and weekends, and holidays skipped
    counting working days, are named differently in French and English."""
    pack = compiled("v2")
    reasons: set[tuple[str, str]] = set()
    for request in scenario_requests("v2"):
        both = evaluate_languages(pack, parsed(pack, request), ["fr", "en"])
        for fr, en in zip(both["fr"]["deadlines"], both["en"]["deadlines"], strict=True):
            if fr["non_working_reason"]:
                reasons.add((fr["non_working_reason"], en["non_working_reason"]))
    assert ("samedi", "Saturday") in reasons
    assert ("Vendredi saint", "Good Friday") in reasons
    # Three working days from Thursday 2 April 2026 on the Metz calendar skip Good Friday and
    # Easter Monday.
    api_example = next(r for r in scenario_requests("v2") if r["department"] == "54")
    both = evaluate_languages(pack, parsed(pack, api_example), ["fr", "en"])
    assert "vendredi saint, lundi de Pâques" in both["fr"]["deadlines"][0]["explanation"]
    assert "Good Friday, Easter Monday" in both["en"]["deadlines"][0]["explanation"]
