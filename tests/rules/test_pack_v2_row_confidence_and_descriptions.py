"""Pack version 2's data (spec §7.6, §7.1): the competent-prefecture rows say how sure each is,
and no description a result shows states a number that the version applied contradicts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from rules.engine.evaluate import CompiledPack, compile_pack, evaluate
from rules.engine.inputs import CaseFacts, Event
from rules.engine.pack import PackDefinition, parse_pack

V2 = Path(__file__).resolve().parents[2] / "rules/packs/asylum-reexamination/v2/pack.json"
# §7.6: these rows are certain, with "the Caen row" of §4 (14, 50, 61 -> Caen); the rest likely.
CERTAIN = {f"{n:02d}" for n in (1, 3, 7, 15, 21, 22, 25, 26, 29, 35, 38, 39, 42, 43, 56, 58)} | {
    f"{n:02d}" for n in (63, 69, 70, 71, 73, 74, 89, 90, 14, 50, 61)
}
# A number of days, weeks or months in a description, in English or French.
PERIOD = re.compile(
    r"\b(\d+) (?:calendar |working )?(?:days?|weeks?|months?)\b"
    r"|\b(\d+) (?:jours?|semaines?|mois)\b"
)


@pytest.fixture(scope="module")
def pack() -> PackDefinition:
    return parse_pack(json.loads(V2.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def compiled(pack: PackDefinition) -> CompiledPack:
    return compile_pack(pack)


def result(
    compiled: CompiledPack, department: str, events: list[tuple[str, str]], language: str = "en"
) -> dict[str, Any]:
    case = CaseFacts(
        department=department,
        events=tuple(Event(kind, dt.date.fromisoformat(day)) for kind, day in events),
        as_of=dt.date(2026, 5, 25),
    )
    return evaluate(compiled, case, language)


def deadline(found: dict[str, Any], key: str) -> dict[str, Any]:
    return next(d for d in found["deadlines"] if d["key"] == key)


def test_the_prefecture_rows_of_section_7_6_are_certain_and_the_others_likely(
    pack: PackDefinition,
) -> None:
    table = pack.lookup_table(pack.authority_table)
    assert table is not None
    (version,) = table.versions
    assert version.confidence == "likely"
    by_confidence = {
        row.key: version.row_confidence(row) for row in version.rows if row.key in CERTAIN
    }
    assert by_confidence == dict.fromkeys(CERTAIN, "certain")
    others = {version.row_confidence(row) for row in version.rows if row.key not in CERTAIN}
    assert others == {"likely"}
    # "The Caen row" is the §4 row whose prefecture is Caen: every department it serves.
    assert {row.key for row in version.rows if "(Caen)" in row.label} == {"14", "50", "61"}


def test_the_authority_for_department_01_is_certain_and_for_department_02_likely(
    compiled: CompiledPack,
) -> None:
    lyon = result(compiled, "01", [("prefecture_presentation", "2026-04-02")])
    beauvais = result(compiled, "02", [("prefecture_presentation", "2026-04-02")])
    caen = result(compiled, "50", [("prefecture_presentation", "2026-04-02")])
    assert lyon["competent_prefecture"] == {
        "department": "69",
        "name": "Préfecture du Rhône (Lyon)",
        "confidence": "certain",
    }
    assert beauvais["competent_prefecture"]["confidence"] == "likely"
    assert caen["competent_prefecture"] == {
        "department": "14",
        "name": "Préfecture du Calvados (Caen)",
        "confidence": "certain",
    }


def test_a_mayotte_case_is_told_7_days_to_post_the_request_and_3_to_complete_it(
    compiled: CompiledPack,
) -> None:
    events = [("registration", "2026-04-01"), ("ofpra_incomplete_notice", "2026-04-06")]
    mayotte = result(compiled, "976", events)
    assert deadline(mayotte, "ofpra_submission")["rule"]["version"] == 3
    assert "within 7 calendar days" in deadline(mayotte, "ofpra_submission")["description"]
    assert "8" not in deadline(mayotte, "ofpra_submission")["description"]
    assert "within 3 calendar days" in deadline(mayotte, "file_completion")["description"]
    french = result(compiled, "976", events, language="fr")
    assert (
        "dans un délai de 7 jours calendaires"
        in (deadline(french, "ofpra_submission")["description"])
    )
    paris = result(compiled, "75", events)
    assert "within 8 calendar days" in deadline(paris, "ofpra_submission")["description"]
    assert "4 calendar days" in deadline(paris, "file_completion")["description"]


def test_a_guyane_case_in_the_derogation_is_told_7_days_and_that_it_is_unsure(
    compiled: CompiledPack,
) -> None:
    guyane = result(compiled, "973", [("registration", "2025-03-03")])
    submission = deadline(guyane, "ofpra_submission")
    assert (submission["rule"]["version"], submission["rule"]["confidence"]) == (4, "unsure")
    assert "7 calendar days" in submission["description"]
    assert "unsure" in submission["description"]


def _periods(text: str) -> set[int]:
    return {int(a or b) for a, b in PERIOD.findall(text)}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_description_shown_states_a_period_its_version_contradicts(
    pack: PackDefinition, language: str
) -> None:
    words = pack.translations.get(language, {}) if language != "en" else {}
    wrong = []
    for rule in pack.deadline_rules:
        for version in rule.versions:
            text = version.description or rule.description
            text = words.get(text, text)
            stated = _periods(text)
            if stated - {version.offset}:
                wrong.append(f"{rule.key} v{version.version} ({version.offset}): {text}")
    assert wrong == []
