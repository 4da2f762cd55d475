"""What a pack says on a given day: the rule versions in force, with bases and sources."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from .pack import PackDefinition, Provenance, dump_pack


def _dated(p: Provenance) -> dict[str, Any]:
    data = asdict(p)
    for name in ("effective_from", "effective_to"):
        data[name] = data[name].isoformat() if data[name] else None
    return data


def rules_in_force(pack: PackDefinition, day: dt.date) -> dict[str, Any]:
    dumped = dump_pack(pack)
    return {
        "key": pack.key,
        "name": pack.name,
        "version": pack.version,
        "description": pack.description,
        "verified_on": pack.verified_on.isoformat(),
        "reviewed_until": pack.reviewed_until.isoformat() if pack.reviewed_until else None,
        "source": {"title": pack.source_title, "url": pack.source_url},
        "on": day.isoformat(),
        "notes": list(pack.notes),
        "event_types": dumped["event_types"],
        "lookup_tables": [
            {
                "key": table.key,
                "label": table.label,
                "description": table.description,
                "version": _dated(version) if (version := table.in_force_on(day)) else None,
            }
            for table in pack.lookup_tables
        ],
        "milestones": [_dated(m) for m in pack.milestones if m.in_force_on(day)],
        "deadline_rules": [
            {
                "key": rule.key,
                "label": rule.label,
                "description": rule.description,
                "versions": [_dated(v) for v in rule.versions if v.in_force_on(day)],
            }
            for rule in pack.deadline_rules
        ],
        "outcomes": [
            {
                "key": outcome.key,
                "label": outcome.label,
                "shape": outcome.shape,
                "rules": [_dated(r) for r in outcome.rules if r.in_force_on(day)],
            }
            for outcome in pack.outcomes
        ],
        "warnings": [_dated(w) for w in pack.warnings if w.in_force_on(day)],
        "anchor_event": pack.anchor_event or None,
        "holiday_adjustments": [_dated(v) for v in pack.holiday_adjustments if v.in_force_on(day)],
    }
