"""A deadline rule version may say what the step asks for in its own words (its own numbers):
the result gives that description, else the rule's, in the reader's language."""

from __future__ import annotations

from typing import Any

from rules.engine.pack import dump_pack, parse_pack
from rules.engine.reader_texts import reader_texts, untranslated

from .made_up import filing, pack, run, versions

DECISION = [("decision", "2026-03-02")]
RULE_TEXT = "File within the time limit."
EIGHT = "File within 8 days of the decision."
SEVEN = "File within 7 days of the decision (department 971)."


def described() -> dict[str, Any]:
    data = pack(
        translations={
            "fr": {
                RULE_TEXT: "Déposer dans le délai.",
                EIGHT: "Déposer dans les 8 jours suivant la décision.",
            }
        }
    )
    data["deadline_rules"][0]["description"] = RULE_TEXT
    general = versions(data)[0]
    general["description"] = EIGHT
    versions(data).append(
        {**general, "version": 2, "offset": 7, "departments": ["971"], "description": SEVEN}
    )
    return data


def test_the_result_gives_the_description_of_the_version_applied() -> None:
    assert filing(run(described(), DECISION))["description"] == EIGHT
    assert filing(run(described(), DECISION, department="971"))["description"] == SEVEN


def test_a_version_without_a_description_has_the_rules() -> None:
    data = described()
    del versions(data)[0]["description"]
    assert filing(run(data, DECISION))["description"] == RULE_TEXT


def test_the_description_is_in_the_readers_language_from_the_packs_translations() -> None:
    assert (
        filing(run(described(), DECISION, language="fr"))["description"]
        == "Déposer dans les 8 jours suivant la décision."
    )
    # Untranslated, the English text is shown (and the completeness check names it).
    assert filing(run(described(), DECISION, department="971", language="fr"))["description"] == (
        SEVEN
    )
    missing = untranslated(parse_pack(described()), "fr")
    assert missing[SEVEN] == "deadline_rules[0].versions[1].description"
    assert EIGHT not in missing


def test_a_version_description_round_trips_and_is_left_out_of_a_dump_when_empty() -> None:
    data = described()
    del versions(data)[0]["description"]
    dumped = dump_pack(parse_pack(data))
    dumped_versions = dumped["deadline_rules"][0]["versions"]
    assert "description" not in dumped_versions[0]
    assert dumped_versions[1]["description"] == SEVEN
    assert parse_pack(dumped) == parse_pack(data)


def test_version_descriptions_are_reader_texts() -> None:
    texts = reader_texts(parse_pack(described()))
    assert texts[EIGHT] == "deadline_rules[0].versions[0].description"
    assert texts[SEVEN] == "deadline_rules[0].versions[1].description"
