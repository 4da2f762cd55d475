"""The texts of a pack that a person reads, and the words for the codes a pack shows.

A pack is written in English; its `translations` give each text in another language, keyed by
the text as written (like gettext). Codes that a reader sees (an event's outcome, an outcome's
status or value) are keyed by the code itself: `translations.fr["inadmissible"] = "irrecevable"`,
and `translations.en["until_ofpra_decision"] = "until OFPRA decides"` gives English readers words
instead of the code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .definition import PackDefinition, Provenance


def code_words(code: str) -> str:
    """A code with no label in the pack, as a last resort: "protection_granted" -> "protection
    granted" (the completeness test lists every code shown this way)."""
    return code.replace("_", " ")


def code_label(translations: Mapping[str, Mapping[str, str]], code: str, language: str) -> str:
    """The words for a code in a language: the pack's translation of the code (or of its words),
    else its English label, else the code's words."""
    words = code_words(code)
    for table in (translations.get(language) or {}, translations.get("en") or {}):
        for key in (code, words):
            if table.get(key):
                return table[key]
    return words


def code_labeller(
    translations: Mapping[str, Mapping[str, str]], language: str
) -> Callable[[str], str]:
    return lambda code: code_label(translations, code, language)


def _provenance(record: Provenance, path: str) -> Iterator[tuple[str, str]]:
    yield f"{path}.source_title", record.source_title
    yield f"{path}.notes", record.notes


def _results(result: Any) -> list[str]:
    values = result if isinstance(result, list | tuple) else [result]
    return [str(v) for v in values if v not in (None, "")]


def reader_texts(pack: PackDefinition) -> dict[str, str]:
    """Every pack text shown to a person, by text, with the path of its first use.

    Codes (event outcomes, outcome results, warning codes) are included: a French reader needs
    their words. Legal bases, keys and lookup rows' keys, values and labels (names of French
    authorities) are not translated; a row's notes are.
    """
    found: list[tuple[str, str]] = [
        ("name", pack.name),
        ("description", pack.description),
        ("source_title", pack.source_title),
        *((f"notes[{i}]", note) for i, note in enumerate(pack.notes)),
    ]
    for i, event_type in enumerate(pack.event_types):
        path = f"event_types[{i}]"
        found.append((f"{path}.label", event_type.label))
        found.append((f"{path}.description", event_type.description))
        found += [(f"{path}.outcomes", outcome) for outcome in event_type.outcomes]
    for i, table in enumerate(pack.lookup_tables):
        path = f"lookup_tables[{i}]"
        found += [(f"{path}.label", table.label), (f"{path}.description", table.description)]
        for j, version in enumerate(table.versions):
            found += _provenance(version, f"{path}.versions[{j}]")
            found += [
                (f"{path}.versions[{j}].rows[{k}].notes", row.notes)
                for k, row in enumerate(version.rows)
            ]
    for i, milestone in enumerate(pack.milestones):
        path = f"milestones[{i}]"
        found += [(f"{path}.label", milestone.label), *_provenance(milestone, path)]
    for i, rule in enumerate(pack.deadline_rules):
        path = f"deadline_rules[{i}]"
        found += [(f"{path}.label", rule.label), (f"{path}.description", rule.description)]
        for j, rule_version in enumerate(rule.versions):
            found.append((f"{path}.versions[{j}].description", rule_version.description))
            found += _provenance(rule_version, f"{path}.versions[{j}]")
    for i, outcome in enumerate(pack.outcomes):
        path = f"outcomes[{i}]"
        found.append((f"{path}.label", outcome.label))
        for j, outcome_rule in enumerate(outcome.rules):
            rule_path = f"{path}.rules[{j}]"
            found += [(f"{rule_path}.result", value) for value in _results(outcome_rule.result)]
            found.append((f"{rule_path}.reason", outcome_rule.reason))
            found += _provenance(outcome_rule, rule_path)
    for i, warning in enumerate(pack.warnings):
        path = f"warnings[{i}]"
        found += [(f"{path}.message", warning.message), *_provenance(warning, path)]
        found.append((f"{path}.code", warning.code))  # its words: the warning's title
    texts: dict[str, str] = {}
    for path, text in found:
        if text and text.strip():
            texts.setdefault(text, path)
    return texts


def untranslated(pack: PackDefinition, language: str) -> dict[str, str]:
    """The reader texts of a pack with no translation in a language: text -> path."""
    table = pack.translations.get(language) or {}
    return {text: path for text, path in reader_texts(pack).items() if not table.get(text)}
