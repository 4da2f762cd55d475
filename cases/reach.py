"""Which open cases a new pack version can change: the re-evaluation skips the others.

`reach(old, new)` compares the definition a case was evaluated with and the newly published
one. When they differ only in deadline rules (the pack's number and verification date aside), a
changed rule can only change the cases where one of its versions, old or new, is triggered: a
deadline exists only once its trigger matched, and everything that follows from it (the
deadlines, milestones, outcomes and warnings that read it) can only differ where it does. The
answer is then the event types that trigger those rules (through a milestone: the events that
reach the milestone). Anything else that differs (event types, lookup tables, calendars,
outcomes, warnings, translations, milestones, the order of the rules...) gives None: every case.
When in doubt, every case: a case re-evaluated for nothing costs time, a case skipped wrongly
keeps a wrong date.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from rules.engine.definition import DeadlineRule, PackDefinition, PackError
from rules.models import PackVersion
from rules.packstore import definition

# What the result states about the pack without depending on a case (rules.engine.evaluate's
# PACK_PARTS) is not stored with the case: it is read from the version the case was evaluated
# with, so the re-evaluation only records the new version on the cases it skips. Of the pack's
# number and dates, what no condition can read: `reviewed_until` is a setting conditions compare
# with (the review-horizon warning), so a change to it reaches every case.
UNREAD_FIELDS = ("version", "verified_on")


def reach(old: PackDefinition, new: PackDefinition) -> frozenset[str] | None:
    """The event types of the cases the change from `old` to `new` can reach; None: every case."""
    if old.key != new.key:
        return None
    blank: dict[str, Any] = {name: getattr(new, name) for name in UNREAD_FIELDS}
    if dataclasses.replace(old, **blank, deadline_rules=()) != dataclasses.replace(
        new, **blank, deadline_rules=()
    ):
        return None
    if [r.key for r in old.deadline_rules] != [r.key for r in new.deadline_rules]:
        return None  # rules added, removed or reordered: not narrowed
    old_rules = {r.key: r for r in old.deadline_rules}
    new_rules = {r.key: r for r in new.deadline_rules}
    types: set[str] = set()
    for key, rule in new_rules.items():
        if rule == old_rules[key]:
            continue
        for side in (old_rules, new_rules):
            found = _trigger_types(side[key], old, old_rules, new_rules, frozenset())
            if found is None:
                return None
            types |= found
    return frozenset(types)


def _trigger_types(
    rule: DeadlineRule,
    pack: PackDefinition,
    old_rules: dict[str, DeadlineRule],
    new_rules: dict[str, DeadlineRule],
    seen: frozenset[str],
) -> set[str] | None:
    """Event types without which no version of the rule is triggered; None: not known."""
    if rule.key in seen:
        return None
    types: set[str] = set()
    for version in rule.versions:
        if version.trigger_event and not version.trigger_milestone:
            types.add(version.trigger_event)
            continue
        milestone = next((m for m in pack.milestones if m.key == version.trigger_milestone), None)
        if milestone is None:
            return None
        if milestone.fallback_event:
            types.add(milestone.fallback_event)
        if milestone.from_deadline:
            for side in (old_rules, new_rules):
                source = side.get(milestone.from_deadline)
                if source is None:
                    return None
                found = _trigger_types(source, pack, old_rules, new_rules, seen | {rule.key})
                if found is None:
                    return None
                types |= found
        if not milestone.fallback_event and not milestone.from_deadline:
            return None
    return types


@functools.lru_cache(maxsize=16)
def version_definition(version_id: int, revision: str) -> PackDefinition | None:
    """A published or retired version's definition (its records are frozen), read once per
    process; None when its records do not make a pack."""
    try:
        return definition(PackVersion(pk=version_id))
    except PackError:
        return None


def reach_from(version_id: int, new: PackDefinition) -> frozenset[str] | None:
    """`reach` from the version a case was evaluated with; None: every case.

    Cases are evaluated with published versions only, and a published or retired version's
    records are frozen (its revision still moves when it is retired): its definition now is the
    one the case was evaluated with. A draft's is not known.
    """
    row = (
        PackVersion.objects.filter(pk=version_id)
        .exclude(status=PackVersion.Status.DRAFT)
        .values_list("revision", flat=True)
        .first()
    )
    old = None if row is None else version_definition(version_id, row)
    return None if old is None else reach(old, new)
