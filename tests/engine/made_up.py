"""A small made-up procedure for the engine's tests: nothing in it comes from the asylum pack."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from rules.engine.evaluate import compile_pack, evaluate
from rules.engine.inputs import CaseFacts, Event
from rules.engine.pack import parse_pack

PROVENANCE = {"legal_basis": "Test code art. 1", "source_title": "test", "confidence": "certain"}

BASE: dict[str, Any] = {
    "format": "rulepack/1",
    "key": "demo-filing",
    "name": "Demo filing",
    "version": 1,
    "verified_on": "2026-01-01",
    "source_title": "test",
    "department_table": "places",
    "event_types": [
        {"code": "lodged", "label": "Application lodged"},
        {"code": "decision", "label": "Decision"},
        {"code": "filing", "label": "Filing"},
    ],
    "lookup_tables": [
        {
            "key": "places",
            "label": "Places",
            "versions": [
                {
                    **PROVENANCE,
                    "rows": [
                        {"key": "75", "value": ""},
                        {"key": "57", "value": "57"},
                        {"key": "67", "value": "57"},
                        {"key": "971", "value": "971"},
                    ],
                }
            ],
        }
    ],
    "deadline_rules": [
        {
            "key": "filing",
            "label": "Filing",
            "versions": [
                {
                    **PROVENANCE,
                    "trigger_event": "decision",
                    "offset": 8,
                    "unit": "calendar_days",
                    "calendar": "applicant",
                    "completed_by": "filing",
                }
            ],
        }
    ],
}


def pack(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(overrides))
    return data


def versions(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The filing rule's versions, to edit in place."""
    return data["deadline_rules"][0]["versions"]  # type: ignore[no-any-return]


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def run(
    data: dict[str, Any],
    events: list[tuple[str, str]],
    *,
    department: str = "75",
    as_of: str = "2026-12-31",
    language: str = "en",
) -> dict[str, Any]:
    compiled = compile_pack(parse_pack(data))
    case = CaseFacts(
        department=department,
        events=tuple(Event(kind, d(day)) for kind, day in events),
        as_of=d(as_of),
    )
    return evaluate(compiled, case, language)


def filing(result: dict[str, Any]) -> dict[str, Any]:
    return next(x for x in result["deadlines"] if x["key"] == "filing")
