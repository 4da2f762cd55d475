"""What the web app reads from a procedure's published rule pack (event types, departments...).

Procedure knowledge stays in rule records: forms and pages ask here instead of listing event
types, outcomes or departments themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.translation import get_language

from rules.engine.evaluate import CompiledPack
from rules.engine.pack import Outcome
from rules.models import DeadlineRuleVersion, EventType, PackVersion, RulePack
from rules.services import PackUnavailable, published_pack, published_version
from rules.services import code_labeller as _codes
from rules.services import translator as _tr


def published_procedures() -> list[RulePack]:
    """Rule packs with a published version: the procedures a case can follow."""
    return list(
        RulePack.objects.filter(versions__status=PackVersion.Status.PUBLISHED)
        .distinct()
        .order_by("name")
    )


def compiled_for(procedure_key: str) -> CompiledPack | None:
    """The compiled published version of a procedure; None when it has none or it is invalid."""
    try:
        return published_pack(procedure_key)
    except PackUnavailable:
        return None


def departments_on(procedure_key: str, day: dt.date) -> frozenset[str]:
    """Department codes the procedure's department table accepts on a day."""
    compiled = compiled_for(procedure_key)
    return frozenset(compiled.departments_on(day)) if compiled else frozenset()


def event_types(procedure_key: str) -> list[EventType]:
    """The published version's event types, in the pack's order."""
    found = published_version(procedure_key)
    if found is None:
        return []
    rows = list(EventType.objects.filter(pack_version_id=found[0]).order_by("position", "id"))
    text = translator(procedure_key)
    for row in rows:  # shown, never saved: labels in the reader's language
        row.label = text(row.label)
    return rows


def translator(procedure_key: str) -> Callable[[str], str]:
    """Pack texts of the procedure in the active language (the pack's own translations)."""
    return _tr(procedure_key, get_language() or settings.LANGUAGE_CODE)


def code_labeller(procedure_key: str) -> Callable[[str], str]:
    """Words for the codes of the procedure (event outcomes, statuses) in the active language."""
    return _codes(procedure_key, get_language() or settings.LANGUAGE_CODE)


def procedure_name(procedure: RulePack) -> str:
    """The procedure's name in the active language: the published version's name (the pack
    row keeps its first version's), in the pack's translation."""
    compiled = compiled_for(procedure.key)
    name = compiled.definition.name if compiled else procedure.name
    return translator(procedure.key)(name)


def outcome_definitions(procedure_key: str) -> tuple[Outcome, ...]:
    compiled = compiled_for(procedure_key)
    return compiled.definition.outcomes if compiled else ()


def authority_outcome(procedure_key: str) -> str | None:
    """Name of the result field carrying the competent authority, if the pack has one."""
    compiled = compiled_for(procedure_key)
    if compiled is None or not compiled.definition.authority_table:
        return None
    return compiled.definition.authority_outcome


class DeadlineDescriptions:
    """What each deadline asks for, in the words of the rule version that produced it (a 7-day
    version says 7 days), else the rule's; from published versions, in the active language."""

    def __init__(self) -> None:
        rows = (
            DeadlineRuleVersion.objects.filter(
                rule__pack_version__status=PackVersion.Status.PUBLISHED
            )
            .order_by("rule__pack_version__number", "version")
            .values_list(
                "rule__pack_version__pack_id",
                "rule__pack_version__pack__key",
                "rule__key",
                "version",
                "description",
                "rule__description",
            )
        )
        texts: dict[str, Callable[[str], str]] = {}
        self.by_version: dict[tuple[int, str, int], str] = {}
        self.by_rule: dict[tuple[int, str], str] = {}
        # Ordered by pack version number: a newer published version's text wins.
        for pack_id, pack_key, key, version, description, rule_description in rows:
            if pack_key not in texts:
                texts[pack_key] = translator(pack_key)
            text = texts[pack_key]
            self.by_rule[(pack_id, key)] = text(rule_description)
            self.by_version[(pack_id, key, version)] = text(description or rule_description)

    def of(self, deadline: Any) -> str:
        """The description for a stored deadline (its case's procedure, key and rule version)."""
        return self.of_rule(deadline.case.procedure_id, deadline.key, deadline.rule_version)

    def of_rule(self, procedure_id: int, key: str, rule_version: int) -> str:
        """The description for a procedure's deadline key and rule version."""
        found = self.by_version.get((procedure_id, key, rule_version))
        return found if found is not None else self.by_rule.get((procedure_id, key), "")


def deadline_descriptions() -> DeadlineDescriptions:
    """What each deadline asks for: `deadline_descriptions().of(deadline)`."""
    return DeadlineDescriptions()
