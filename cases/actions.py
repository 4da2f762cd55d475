"""Every write to a case goes through here: save, re-evaluate, store deadlines, keep history.

Each action runs in one transaction. The case is re-evaluated with the shared `evaluate`; if the
rules refuse the facts (an event type the procedure does not know, a missing outcome...), nothing
is saved and CaseRefused lists the problems by field. After the commit, the hooks registered in
`after_deadlines_change` run (the alert planner subscribes there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from rules.engine.evaluate import PACK_PARTS, pack_parts
from rules.engine.inputs import InputError
from rules.services import evaluate_in_languages, published_version

from .models import (
    Case,
    CaseEvent,
    Deadline,
    Membership,
    NewElement,
    Organisation,
    new_feed_token,
    next_due_of,
)
from .reach import version_definition

User = AbstractBaseUser | AnonymousUser

# Called on commit with the id of a case whose deadlines were stored (ids, not objects).
after_deadlines_change: list[Callable[[int], None]] = []
# Called on commit with the ids of many cases re-evaluated at once (a re-evaluation chunk).
after_many_deadlines_change: list[Callable[[list[int]], None]] = []


class CaseRefused(ValueError):
    """The rules refuse the case's facts; `errors` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _history(obj: Any, user: User | None, reason: str) -> None:
    obj._history_user = user if user is not None and user.is_authenticated else None
    obj._change_reason = reason[:100]


history_author = _history


def _field_for(path: str) -> str:
    """Map an API error path (events[2].date) to the form field it concerns (date)."""
    last = path.split(".")[-1]
    return "__all__" if not last or "[" in last else last


def site_languages() -> list[str]:
    """The site's languages, the default first (texts are stored in each)."""
    default = settings.LANGUAGE_CODE[:2]
    return [default, *(code[:2] for code, _ in settings.LANGUAGES if code[:2] != default)]


def evaluate_case(
    case: Case, published: tuple[int, str] | None, *, as_of: dt.date | None = None
) -> dict[str, dict[str, Any]]:
    """The case's result in each site language, from one evaluation; CaseRefused on bad facts."""
    return evaluate_payload(case.evaluation_payload(), published, as_of=as_of)


def evaluate_payload(
    payload: dict[str, Any], published: tuple[int, str] | None, *, as_of: dt.date | None = None
) -> dict[str, dict[str, Any]]:
    """`evaluate_case` from a case's facts already in the shape of a request (`facts_payload`)."""
    if as_of is not None:
        payload["as_of"] = as_of.isoformat()
    try:
        return evaluate_in_languages(payload, site_languages(), published=published)
    except InputError as error:
        errors: dict[str, list[str]] = {}
        for item in error.errors:
            errors.setdefault(_field_for(item["field"]), []).append(item["message"])
        raise CaseRefused(errors) from error


@dataclass
class DeadlineChanges:
    """What storing a result changes in a case's deadline rows (nothing saved yet)."""

    created: list[Deadline] = field(default_factory=list)
    changed: list[Deadline] = field(default_factory=list)  # values set, to save with history
    deleted: list[Deadline] = field(default_factory=list)


CHANGED_FIELDS = (
    "label",
    "due",
    "status",
    "completed_on",
    "non_working_day",
    "next_working_day",
    "trigger_type",
    "trigger_date",
    "rule_version",
    "confidence",
    "legal_basis",
    "explanation",
    "texts",
)
PROVENANCE_FIELDS = ("pack_version", "pack_version_ref_id", "pack_revision")


def _shown(warning: dict[str, Any]) -> dict[str, Any]:
    """What lists, the CSV, the feed and alerts show of a warning."""
    return {
        "code": warning["code"],
        "title": warning.get("title") or warning["code"],
        "message": warning["message"],
    }


def deadline_warnings(warnings: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The result's warnings that name a deadline (e.g. a due date past the review horizon),
    as stored with its texts (none: no key). The others concern the whole case, so every
    deadline of it: kept once on the case (`case_warnings`); readers merge both
    (Deadline.warnings_in)."""
    found = [_shown(w) for w in warnings if key in w.get("deadlines", ())]
    return {"warnings": found} if found else {}


def case_warnings(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Case.case_warnings of a result: by language, its warnings that name no deadline ({}
    when there are none)."""
    found = {
        lang: [_shown(w) for w in result.get("warnings", []) if "deadlines" not in w]
        for lang, result in results.items()
    }
    return {lang: warnings for lang, warnings in found.items() if warnings}


def deadline_values(results: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(key, the values of CHANGED_FIELDS, in that order) of each deadline of a result."""
    result = results[site_languages()[0]]
    texts = {
        lang: {
            d["key"]: {
                "label": d["label"],
                "explanation": d["explanation"],
                **deadline_warnings(other.get("warnings", []), d["key"]),
            }
            for d in other["deadlines"]
        }
        for lang, other in results.items()
    }
    found = []
    for item in result["deadlines"]:
        values = {
            "label": item["label"],
            "due": dt.date.fromisoformat(item["due"]) if item["due"] else None,
            "status": item["status"],
            # Done, even late: a late step is shown as missed but is no longer to be done.
            "completed_on": (
                dt.date.fromisoformat(item["completed_by"]["date"])
                if item["completed_by"]
                else None
            ),
            "non_working_day": item["non_working_day"],
            "next_working_day": (
                dt.date.fromisoformat(item["next_working_day"])
                if item.get("next_working_day")
                else None
            ),
            "trigger_type": item["trigger"]["type"],
            "trigger_date": dt.date.fromisoformat(item["trigger"]["date"]),
            "rule_version": item["rule"]["version"],
            "confidence": item["rule"]["confidence"],
            "legal_basis": item["legal_basis"],
            "explanation": item["explanation"],
            "texts": {lang: keyed[item["key"]] for lang, keyed in texts.items()},
        }
        found.append((item["key"], values))
    return found


def provenance_values(
    results: dict[str, dict[str, Any]], published: tuple[int, str] | None
) -> dict[str, Any]:
    """The values of PROVENANCE_FIELDS: which pack version (number, id, revision) made them."""
    version_id, revision = published if published else (None, "")
    return {
        "pack_version": results[site_languages()[0]]["rule_pack"]["version"],
        "pack_version_ref_id": version_id,
        "pack_revision": revision,
    }


def deadline_changes(
    case: Case,
    results: dict[str, dict[str, Any]],
    existing: list[Deadline],
    published: tuple[int, str] | None,
) -> DeadlineChanges:
    """Compare a result with the case's deadline rows; changed rows get their new values."""
    by_key = {d.key: d for d in existing}
    listed = Deadline.listed_values(case)
    provenance = provenance_values(results, published)
    changes = DeadlineChanges()
    seen = set()
    for key, values in deadline_values(results):
        seen.add(key)
        deadline = by_key.get(key)
        if deadline is None:
            changes.created.append(Deadline(case=case, key=key, **values, **provenance, **listed))
            continue
        if all(getattr(deadline, k) == v for k, v in values.items()):
            # The same dates and words: the row keeps the version that wrote them (the case
            # records the version it was last evaluated with).
            continue
        for name, value in {**values, **provenance}.items():
            setattr(deadline, name, value)
        changes.changed.append(deadline)
    changes.deleted = [d for key, d in by_key.items() if key not in seen]
    return changes


# Not kept with the case: the deadlines (rows of their own) and what the result says of the pack
# alone (`stored_result` reads it from the version the case was evaluated with).
NOT_KEPT = frozenset({"deadlines", *PACK_PARTS})


def summary_of(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a case keeps of its result (Case.evaluation), by language: all but NOT_KEPT (the
    pack's parts are the same for every case of a version, and its notes half of a result)."""
    return {
        lang: {k: v for k, v in other.items() if k not in NOT_KEPT}
        for lang, other in results.items()
    }


def stored_result(case: Case, language: str) -> dict[str, Any]:
    """The case's last result in a language as the engine gave it, deadlines aside: what the
    case keeps, and the pack's own parts (its version, dates and notes) from the version the
    case was evaluated with (what a re-evaluation that cannot change the case records)."""
    result = dict(case.evaluation_for(language))
    if case.evaluated_pack_version_id is not None:
        pack = version_definition(case.evaluated_pack_version_id, case.evaluated_revision)
        if pack is not None:
            result.update(pack_parts(pack, result.get("language") or language))
    return result


def set_evaluated(
    case: Case, results: dict[str, dict[str, Any]], published: tuple[int, str] | None
) -> None:
    """Put the evaluation's summary on the case (not saved)."""
    case.evaluation = summary_of(results)
    case.case_warnings = case_warnings(results)
    case.evaluation_errors = []
    case.evaluated_at = timezone.now()
    case.evaluated_pack_version_id = published[0] if published else None
    case.evaluated_revision = published[1] if published else ""


def evaluate_and_store(
    case: Case,
    *,
    user: User | None,
    reason: str,
    as_of: dt.date | None = None,
    run_hooks: bool = True,
) -> dict[str, Any]:
    """Re-evaluate a case from its stored facts and store the deadlines it produced.

    The texts are stored in each of the site's languages (one evaluation: the rules fire once
    and each language's texts are written from the same matches), so that every reader sees
    them in their own. `run_hooks` False leaves the on-commit hooks to the caller.
    """
    # Read before evaluating: if a version is published in between, the case is recorded with
    # the older one and the re-evaluation of the new one takes it again (never the reverse).
    # Always the fresh row (never a cached one): what is stored says which version made it.
    published = published_version(case.procedure.key)
    results = evaluate_case(case, published, as_of=as_of)
    existing = list(case.deadlines.all())
    changes = deadline_changes(case, results, existing, published)
    for deadline in [*changes.created, *changes.changed]:
        _history(deadline, user, reason)
        deadline.save()
    for deadline in changes.deleted:
        _history(deadline, user, reason)
        deadline.delete()

    set_evaluated(case, results, published)
    gone = {d.pk for d in changes.deleted}
    case.next_due = next_due_of([*changes.created, *(d for d in existing if d.pk not in gone)])
    case.save(
        update_fields=[
            "next_due",
            "evaluation",
            "case_warnings",
            "evaluation_errors",
            "evaluated_at",
            "evaluated_pack_version",
            "evaluated_revision",
            "updated_at",
        ]
    )
    if run_hooks:
        case_id = case.pk
        for hook in after_deadlines_change:
            transaction.on_commit(lambda hook=hook: hook(case_id))  # type: ignore[misc]
    return results[site_languages()[0]]


CASE_FIELDS = (
    "reference",
    "applicant_name",
    "department",
    "preferred_language",
    "phone",
    "email",
    "sms_consent",
    "email_consent",
    "assigned_to",
    "procedure",
    "previous_reexaminations",
    "state",
)


@transaction.atomic
def create_case(
    *, organisation: Organisation, user: User, reason: str = "case opened", **fields: Any
) -> Case:
    case = Case(organisation=organisation, **{k: v for k, v in fields.items() if k in CASE_FIELDS})
    _history(case, user, reason)
    case.save()
    evaluate_and_store(case, user=user, reason=reason)
    return case


@transaction.atomic
def update_case(case: Case, *, user: User, reason: str = "case updated", **changes: Any) -> Case:
    was_closed = case.state == Case.State.CLOSED
    for name, value in changes.items():
        if name in CASE_FIELDS:
            setattr(case, name, value)
    # The retention period of personal data runs from the closing (cases/privacy.py).
    if case.state == Case.State.CLOSED and not was_closed:
        case.closed_at = timezone.now()
    elif case.state != Case.State.CLOSED:
        case.closed_at = None
    _history(case, user, reason)
    case.save()
    evaluate_and_store(case, user=user, reason=reason)
    return case


@transaction.atomic
def record_event(
    case: Case,
    *,
    user: User,
    type: str,
    date: dt.date,
    outcome: str = "",
    note: str = "",
    reason: str = "event recorded",
) -> CaseEvent:
    event = CaseEvent(case=case, type=type, date=date, outcome=outcome or "", note=note)
    _history(event, user, reason)
    event.save()
    evaluate_and_store(case, user=user, reason=reason)
    return event


@transaction.atomic
def update_event(
    event: CaseEvent, *, user: User, reason: str = "event corrected", **changes: Any
) -> CaseEvent:
    for name in ("type", "date", "outcome", "note"):
        if name in changes:
            setattr(event, name, changes[name] or ("" if name in ("outcome", "note") else None))
    _history(event, user, reason)
    event.save()
    evaluate_and_store(event.case, user=user, reason=reason)
    return event


@transaction.atomic
def delete_event(event: CaseEvent, *, user: User, reason: str = "event deleted") -> None:
    case = event.case
    _history(event, user, reason)
    event.delete()
    evaluate_and_store(case, user=user, reason=reason)


@transaction.atomic
def add_new_element(
    case: Case,
    *,
    user: User,
    date: dt.date,
    known_on: dt.date | None = None,
    description: str = "",
    reason: str = "new element recorded",
) -> NewElement:
    element = NewElement(case=case, date=date, known_on=known_on, description=description)
    _history(element, user, reason)
    element.save()
    evaluate_and_store(case, user=user, reason=reason)
    return element


@transaction.atomic
def update_new_element(
    element: NewElement, *, user: User, reason: str = "new element corrected", **changes: Any
) -> NewElement:
    for name in ("date", "known_on", "description"):
        if name in changes:
            setattr(element, name, changes[name])
    _history(element, user, reason)
    element.save()
    evaluate_and_store(element.case, user=user, reason=reason)
    return element


@transaction.atomic
def delete_new_element(
    element: NewElement, *, user: User, reason: str = "new element deleted"
) -> None:
    case = element.case
    _history(element, user, reason)
    element.delete()
    evaluate_and_store(case, user=user, reason=reason)


@transaction.atomic
def rotate_feed_token(
    membership: Membership, *, user: User, reason: str = "calendar link renewed"
) -> Membership:
    """Give a member a new calendar feed token: the old feed URL stops working at once."""
    membership.feed_token = new_feed_token()
    _history(membership, user, reason)
    membership.save(update_fields=["feed_token"])
    return membership
