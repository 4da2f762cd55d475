"""Serializers that document the API in the OpenAPI schema; validation is rules/engine/inputs.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rest_framework import serializers


class EventIn(serializers.Serializer[Any]):
    type = serializers.CharField(help_text="An event type the procedure declares.")
    date = serializers.DateField()
    outcome = serializers.CharField(
        required=False, help_text="Required for event types that have outcomes."
    )


class NewElementIn(serializers.Serializer[Any]):
    date = serializers.DateField(help_text="When the fact or evidence arose.")
    known_on = serializers.DateField(required=False, help_text="When the applicant learned of it.")
    description = serializers.CharField(required=False)


class EvaluateRequest(serializers.Serializer[Any]):
    procedure = serializers.CharField(help_text="Rule pack key, e.g. asylum-reexamination.")
    department = serializers.CharField(help_text="Department of residence: 01-95, 2A, 2B, 971-976.")
    previous_reexaminations = serializers.IntegerField(required=False, min_value=0, default=0)
    as_of = serializers.DateField(required=False, help_text="Default: today (Europe/Paris).")
    events = EventIn(many=True, required=False)
    new_elements = NewElementIn(many=True, required=False)


class DatedEvent(serializers.Serializer[Any]):
    type = serializers.CharField()
    date = serializers.DateField()


class RuleRef(serializers.Serializer[Any]):
    key = serializers.CharField()
    version = serializers.IntegerField()
    confidence = serializers.ChoiceField(choices=["certain", "likely", "unsure"])


class Deadline(serializers.Serializer[Any]):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    description = serializers.CharField(
        help_text="What the step asks for, in the words of the rule version applied (its own "
        "numbers), in the reader's language; empty when the pack has none.",
    )
    due = serializers.DateField(allow_null=True, help_text="null only while suspended")
    status = serializers.ChoiceField(
        choices=["open", "met", "missed", "suspended", "possibly_open", "possibly_met"]
    )
    status_label = serializers.CharField(help_text="The status in the reader's language.")
    non_working_day = serializers.BooleanField()
    next_working_day = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Only for a limit that may be extended: the next working day after a "
        "non-working due date (null when due is a working day). The due date never moves.",
    )
    non_working_reason = serializers.CharField(allow_null=True)
    trigger = DatedEvent()
    completed_by = DatedEvent(allow_null=True)
    rule = RuleRef()
    legal_basis = serializers.CharField()
    explanation = serializers.CharField()


class Status(serializers.Serializer[Any]):
    status = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    legal_basis = serializers.CharField()
    since = serializers.DateField(required=False, allow_null=True)


class Authority(serializers.Serializer[Any]):
    department = serializers.CharField()
    name = serializers.CharField()
    confidence = serializers.ChoiceField(
        choices=["certain", "likely", "unsure"],
        help_text="How sure the pack is of this row of its table (the row's own confidence, "
        "else the table version's).",
    )


class Warning(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()


class PackRef(serializers.Serializer[Any]):
    key = serializers.CharField()
    version = serializers.IntegerField()
    verified_on = serializers.DateField()
    reviewed_until = serializers.DateField(allow_null=True)


class EvaluateResponse(serializers.Serializer[Any]):
    procedure = serializers.CharField()
    rule_pack = PackRef()
    as_of = serializers.DateField()
    competent_prefecture = Authority(allow_null=True)
    track = serializers.CharField()
    submission_channels = serializers.ListField(child=serializers.CharField())
    admissibility = Status()
    right_to_remain = Status()
    deadlines = Deadline(many=True)
    warnings = Warning(many=True)
    notes = serializers.ListField(child=serializers.CharField())


class Error(serializers.Serializer[Any]):
    field = serializers.CharField(help_text="e.g. events[0].date; empty for the whole body")
    message = serializers.CharField()


class Errors(serializers.Serializer[Any]):
    errors = Error(many=True)  # type: ignore[assignment]


class PackVersionRef(serializers.Serializer[Any]):
    version = serializers.IntegerField()
    status = serializers.CharField()


class PackSummary(serializers.Serializer[Any]):
    key = serializers.CharField()
    name = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    verified_on = serializers.DateField(allow_null=True)
    reviewed_until = serializers.DateField(allow_null=True)
    versions = PackVersionRef(many=True)


class PackList(serializers.Serializer[Any]):
    packs = PackSummary(many=True)


# The api.md example request, kept as data beside the shipped pack.
EXAMPLE = json.loads(
    (Path(__file__).parent / "packs" / "asylum-reexamination" / "api-example.json").read_text()
)
