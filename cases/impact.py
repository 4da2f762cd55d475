"""The impact of a draft pack version, before anyone publishes it.

`start_impact` stores a run with the ids of every open case of the procedure; `advance` takes
the next chunk of them, evaluates each case with the draft
(`evaluate_request(case.evaluation_payload(), pack_version_id=draft)`), compares the result with
what the case shows today (its stored deadlines, with today's status, and its stored outcomes)
and stores every difference as an ImpactChange, moving the run's progress in the same
transaction. A run interrupted by a dead worker resumes from its progress; nothing is written
to the cases themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from rules.engine.inputs import InputError
from rules.models import PackVersion
from rules.services import PackUnavailable, evaluate_request, today

from .models import Case, Deadline, ImpactChange, ImpactRun
from .reevaluation import open_case_ids

logger = logging.getLogger(__name__)

# Result fields that are not outcomes a case shows.
NOT_OUTCOMES = frozenset(
    {
        "procedure",
        "rule_pack",
        "as_of",
        "department",
        "deadlines",
        "warnings",
        "notes",
        "language",
        "outcome_labels",
    }
)

# Called on commit with the id of a new run (cases/tasks.py queues it; tests run it inline).
after_start: list[Callable[[int], None]] = []


def start_impact(pack_version_id: int, *, user: Any) -> ImpactRun:
    """Store a run over every open case of the version's procedure; queued on commit."""
    version = PackVersion.objects.get(pk=pack_version_id)
    with transaction.atomic():
        ids = open_case_ids(version.pack_id)
        run = ImpactRun.objects.create(
            pack_version=version,
            case_ids=ids,
            total_cases=len(ids),
            as_of=today(),
            revision=version.revision,
            started_by=user if getattr(user, "is_authenticated", False) else None,
        )
        for hook in after_start:
            transaction.on_commit(lambda hook=hook: hook(run.pk))  # type: ignore[misc]
    return run


def outcome_value(value: Any) -> str:
    """An outcome as one comparable, readable text: a status, a department, or the value."""
    if isinstance(value, dict):
        if "status" in value:
            return str(value["status"])
        if "department" in value:
            return str(value["department"])
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def compare(
    case: Case, deadlines: Iterable[Deadline], result: dict[str, Any], day: dt.date
) -> list[ImpactChange]:
    """What would change on this case: deadlines (due date, today's status) and outcomes."""
    changes: list[ImpactChange] = []
    old = {d.key: d for d in deadlines}
    new = {d["key"]: d for d in result["deadlines"]}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        old_due = before.due if before else None
        old_status = before.status_on(day) if before else ""
        new_due = dt.date.fromisoformat(after["due"]) if after and after["due"] else None
        new_status = after["status"] if after else ""
        if (
            before is not None
            and after is not None
            and (old_due, old_status)
            == (
                new_due,
                new_status,
            )
        ):
            continue
        changes.append(
            ImpactChange(
                case=case,
                kind=ImpactChange.Kind.DEADLINE,
                key=key,
                label=(after["label"] if after else before.label if before else key)[:200],
                old_due=old_due,
                new_due=new_due,
                old_value=old_status,
                new_value=new_status,
            )
        )
    stored = case.evaluation_for(settings.LANGUAGE_CODE)
    keys = (set(stored) | set(result)) - NOT_OUTCOMES
    for key in sorted(keys):
        before_text, after_text = outcome_value(stored.get(key)), outcome_value(result.get(key))
        if before_text != after_text:
            changes.append(
                ImpactChange(
                    case=case,
                    kind=ImpactChange.Kind.OUTCOME,
                    key=key,
                    label=key.replace("_", " "),
                    old_value=before_text[:200],
                    new_value=after_text[:200],
                )
            )
    return changes


def advance(run_id: int, *, chunk_size: int | None = None) -> bool:
    """Evaluate the next chunk of a run; True while cases remain."""
    size = max(1, chunk_size or settings.REEVALUATION_CHUNK_SIZE)
    with transaction.atomic():
        # Locked: two workers holding the same run take turns instead of doing a chunk twice.
        run = (
            ImpactRun.objects.select_for_update()
            .select_related("pack_version__pack")
            .get(pk=run_id)
        )
        if run.state != ImpactRun.State.RUNNING:
            return False
        ids = run.case_ids[run.done_cases : run.done_cases + size]
        if not ids:
            run.state, run.finished_at = ImpactRun.State.DONE, timezone.now()
            run.save(update_fields=["state", "finished_at", "updated_at"])
            return False
        cases = (
            Case.objects.filter(pk__in=ids, state=Case.State.OPEN)
            .select_related("procedure")
            .prefetch_related("deadlines", "events", "new_elements")
            .order_by("pk")
        )
        changes: list[ImpactChange] = []
        changed = 0
        for case in cases:
            payload = {
                **case.evaluation_payload(),
                "as_of": run.as_of.isoformat(),
                # The stored results compared with are in the site's language.
                "language": settings.LANGUAGE_CODE[:2],
            }
            try:
                result = evaluate_request(payload, pack_version_id=run.pack_version_id)
            except InputError as error:
                # The draft refuses the facts: that is an impact too, shown as such.
                result_error = "; ".join(e["message"] for e in error.errors)[:200]
                changes.append(
                    ImpactChange(
                        case=case,
                        kind=ImpactChange.Kind.OUTCOME,
                        key="refused",
                        label="refused by the draft",
                        new_value=result_error,
                    )
                )
                changed += 1
                continue
            except PackUnavailable as error:
                run.state, run.error = ImpactRun.State.FAILED, str(error)[:2000]
                run.finished_at = timezone.now()
                run.save(update_fields=["state", "error", "finished_at", "updated_at"])
                return False
            found = compare(case, case.deadlines.all(), result, run.as_of)
            if found:
                changes.extend(found)
                changed += 1
        for change in changes:
            change.run = run
        ImpactChange.objects.bulk_create(changes)
        run.done_cases += len(ids)
        run.changed_cases += changed
        run.save(update_fields=["done_cases", "changed_cases", "updated_at"])
        return True


def run_to_end(run_id: int, *, chunk_size: int | None = None) -> None:
    while advance(run_id, chunk_size=chunk_size):
        pass


def runs_to_resume(now: dt.datetime) -> list[int]:
    """Running impact runs untouched for longer than the lease: their worker died."""
    stale = now - dt.timedelta(seconds=settings.REEVALUATION_LEASE_SECONDS)
    return list(
        ImpactRun.objects.filter(state=ImpactRun.State.RUNNING, updated_at__lt=stale).values_list(
            "pk", flat=True
        )
    )


def counts_by_rule(run: ImpactRun) -> list[tuple[str, str, int]]:
    """(kind, rule or outcome key, number of cases) for a run, most cases first."""
    rows = (
        run.changes.values("kind", "key")
        .annotate(cases=Count("case_id", distinct=True))
        .order_by("-cases", "kind", "key")
    )
    return [(r["kind"], r["key"], r["cases"]) for r in rows]


def changes_of(run: ImpactRun) -> QuerySet[ImpactChange]:
    """The run's changes with what legal staff may see of each case (reference, organisation)."""
    return (
        run.changes.select_related("case__organisation")
        .only(
            "kind",
            "key",
            "label",
            "old_due",
            "new_due",
            "old_value",
            "new_value",
            "case__reference",
            "case__organisation__name",
        )
        .order_by("case__organisation__name", "case__reference", "kind", "key")
    )


def changed_case_count(run: ImpactRun) -> int:
    return len(Counter(run.changes.values_list("case_id", flat=True)))
