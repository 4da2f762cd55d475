"""Saving a case as a scenario of its procedure: its facts, judged today, and today's results.

Only what an API request carries is kept (department, previous reexaminations, events with
their outcomes, new elements' dates): no name, phone, email, reference or note. The expected
results are the current evaluation, in the scenario format of the shipped pack files
(deadlines with due, status, non_working_day, legal_basis; absent deadlines; warnings; status
outcomes and the competent authority). A local stand-in for rules.scenarios.save_scenario,
to be unified with it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from rules.engine.inputs import InputError
from rules.models import Scenario
from rules.services import evaluate_request, today

from . import procedures
from .models import Case

PERMISSION = "rules.add_scenario"


class CaseNotSaved(ValueError):
    """The case cannot be kept as a scenario (its facts are refused by the rules)."""


def can_save_scenario(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(PERMISSION))


def expected_from(result: dict[str, Any], rule_keys: list[str]) -> dict[str, Any]:
    """A scenario's `expect` built from an evaluation result."""
    deadlines = {
        d["key"]: {
            "due": d["due"],
            "status": d["status"],
            "non_working_day": d["non_working_day"],
            "legal_basis": d["legal_basis"],
        }
        for d in result["deadlines"]
    }
    expect: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, dict) and "status" in value:
            expect[key] = {"status": value["status"]}
            if value.get("since"):
                expect[key]["since"] = value["since"]
        elif isinstance(value, dict) and "department" in value and key != "rule_pack":
            expect[key] = {"department": value["department"]}
    expect["deadlines"] = deadlines
    expect["absent_deadlines"] = [key for key in rule_keys if key not in deadlines]
    expect["warnings"] = [w["code"] for w in result.get("warnings", [])]
    return expect


def _free_name(case: Case, day: dt.date) -> str:
    base = f"case-{case.pk}-{day:%Y%m%d}"
    taken = set(
        Scenario.objects.filter(pack_id=case.procedure_id, name__startswith=base).values_list(
            "name", flat=True
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


@transaction.atomic
def save_case_as_scenario(case: Case, *, user: Any) -> Scenario:
    day = today()
    request = {**case.evaluation_payload(), "as_of": day.isoformat()}
    try:
        result = evaluate_request(request)
    except InputError as error:
        raise CaseNotSaved(
            _("The rules refuse this case's facts: %(errors)s")
            % {"errors": "; ".join(f"{e['field']}: {e['message']}" for e in error.errors)}
        ) from error
    compiled = procedures.compiled_for(case.procedure.key)
    rule_keys = [r.key for r in compiled.definition.deadline_rules] if compiled else []
    scenario = Scenario(
        pack_id=case.procedure_id,
        name=_free_name(case, day),
        description=f"Saved from a case on {day.isoformat()} by {user.get_username()}.",
        request=request,
        expect=expected_from(result, rule_keys),
        origin="case",
    )
    scenario._history_user = user  # type: ignore[attr-defined]
    scenario._change_reason = "saved from a case"  # type: ignore[attr-defined]
    scenario.save()
    return scenario
