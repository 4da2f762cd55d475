"""The texts of a pack that a reader sees, and which of them a language has no translation for.

The evaluator passes these texts through the pack's translations (evaluate._Writer.label_of):
event type, deadline and milestone labels, notes, outcome results and reasons, warning messages.
"""

from __future__ import annotations

from .definition import PackDefinition


def pack_texts(pack: PackDefinition) -> list[tuple[str, str]]:
    """(field path, text) of every text shown to readers, each text once (first path kept)."""
    found: dict[str, str] = {}

    def add(path: str, text: object) -> None:
        if isinstance(text, str) and text.strip() and text not in found:
            found[text] = path

    for i, note in enumerate(pack.notes):
        add(f"notes[{i}]", note)
    for i, event in enumerate(pack.event_types):
        add(f"event_types[{i}].label", event.label)
    for i, rule in enumerate(pack.deadline_rules):
        add(f"deadline_rules[{i}].label", rule.label)
    for i, milestone in enumerate(pack.milestones):
        add(f"milestones[{i}].label", milestone.label)
    for i, outcome in enumerate(pack.outcomes):
        for j, outcome_rule in enumerate(outcome.rules):
            path = f"outcomes[{i}].rules[{j}]"
            results = (
                outcome_rule.result
                if isinstance(outcome_rule.result, list)
                else [outcome_rule.result]
            )
            for result in results:
                add(f"{path}.result", result)
            add(f"{path}.reason", outcome_rule.reason)
    for i, warning in enumerate(pack.warnings):
        add(f"warnings[{i}].message", warning.message)
    return [(path, text) for text, path in found.items()]


def untranslated(pack: PackDefinition, language: str) -> list[tuple[str, str]]:
    """(field path, text) of the pack's texts that `language` lacks in the pack's translations."""
    table = pack.translations.get(language, {})
    return [(path, text) for path, text in pack_texts(pack) if text not in table]
