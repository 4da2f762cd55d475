"""A rule pack version as plain data: the pack file format, parsed and validated.

This module gathers the public names of the pack format so callers need one import:
- `definition`: the records (dataclasses), their choices and limits, PackError;
- `pack_file`: parse_pack (reading and validating a pack dict) and dump_pack (writing one);
- `validation`: validate_pack, the cross-record checks.
"""

from __future__ import annotations

from .definition import (
    ALERT_AUDIENCES,
    ALERT_CHANNELS,
    CALENDARS,
    CONFIDENCES,
    EXTENSIONS,
    FORMAT,
    HOLIDAY_ACTIONS,
    KEY_PATTERN,
    MAX_LEAD_DAYS,
    MAX_OFFSET,
    MAX_RULES_PER_FACT,
    NATIONAL,
    OUTCOME_SHAPES,
    PACK_KEY_PATTERN,
    RESUMPTIONS,
    TRIGGER_CHOICES,
    TRIGGER_OCCURRENCES,
    VERSION_BY,
    AlertRule,
    DeadlineRule,
    DeadlineRuleVersion,
    EventType,
    HolidayAdjustment,
    HolidayAdjustmentVersion,
    LookupRow,
    LookupTable,
    LookupTableVersion,
    Milestone,
    Outcome,
    OutcomeRule,
    PackDefinition,
    PackError,
    Provenance,
    WarningRule,
)
from .pack_file import dump_pack, parse_pack
from .validation import validate_pack

__all__ = [
    "ALERT_AUDIENCES",
    "ALERT_CHANNELS",
    "CALENDARS",
    "CONFIDENCES",
    "EXTENSIONS",
    "FORMAT",
    "HOLIDAY_ACTIONS",
    "KEY_PATTERN",
    "MAX_LEAD_DAYS",
    "MAX_OFFSET",
    "MAX_RULES_PER_FACT",
    "NATIONAL",
    "OUTCOME_SHAPES",
    "PACK_KEY_PATTERN",
    "RESUMPTIONS",
    "TRIGGER_CHOICES",
    "TRIGGER_OCCURRENCES",
    "VERSION_BY",
    "AlertRule",
    "DeadlineRule",
    "DeadlineRuleVersion",
    "EventType",
    "HolidayAdjustment",
    "HolidayAdjustmentVersion",
    "LookupRow",
    "LookupTable",
    "LookupTableVersion",
    "Milestone",
    "Outcome",
    "OutcomeRule",
    "PackDefinition",
    "PackError",
    "Provenance",
    "WarningRule",
    "dump_pack",
    "parse_pack",
    "validate_pack",
]
