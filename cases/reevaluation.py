"""After a pack version is published, every open case of its procedure follows.

`start_run` stores the run and its chunks up front (case ids, CHUNK_SIZE per chunk). A worker
applies a chunk with `apply_chunk`: it claims the chunk with a conditional update and a lease,
then, in one transaction, locks the chunk's open cases (their facts and deadlines read in bulk),
evaluates each once (`cases.actions.evaluate_case`: every language's texts from one pass
through the rules), writes in bulk only the deadline rows that changed (history rows with the
publisher and the publication's reason, simple-history's bulk helpers), records what moved, and
marks the chunk applied. The applied mark is written in that same
transaction, so a worker killed mid-chunk leaves nothing applied and the chunk is taken again
once its lease has passed; a second worker holding the same chunk finds it applied and stops.
`sweep` queues again what a dead worker or a lost message left behind, and finishes runs whose
chunks are all applied.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field, Model, Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from rules.engine.definition import PackDefinition
from rules.engine.explain import language_of
from rules.models import PackVersion
from rules.services import PackUnavailable, compiled_pack, published_version

from . import actions
from .models import Case, CaseEvent, Deadline, DeadlineMove, ReevaluationChunk, ReevaluationRun
from .reach import reach_from, rule_pack_block

logger = logging.getLogger(__name__)

BATCH = 500
EVALUATED_FIELDS = (
    "evaluation",
    "evaluation_errors",
    "evaluated_at",
    "evaluated_pack_version",
    "evaluated_revision",
    "updated_at",
)

# False: every open case is evaluated, whatever changed (a test compares both ways).
NARROW = True

# Called on commit with the id of a run whose chunks are all applied (the notices hook here).
after_run_finished: list[Callable[[int], None]] = []


def publication_reason(version: PackVersion) -> str:
    """The reason kept in each case's history: "rule pack v3 published: <why>"."""
    why = version.publish_reason.strip()
    return f"rule pack v{version.number} published" + (f": {why}" if why else "")


def open_case_ids(pack_id: int) -> list[int]:
    return list(
        Case.objects.filter(procedure_id=pack_id, state=Case.State.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def start_run(pack_version_id: int, *, chunk_size: int | None = None) -> ReevaluationRun:
    """The run of a published version with its chunks; the existing one if already started."""
    existing = ReevaluationRun.objects.filter(pack_version_id=pack_version_id).first()
    if existing is not None:
        return existing
    version = PackVersion.objects.get(pk=pack_version_id)
    size = max(1, chunk_size or settings.REEVALUATION_CHUNK_SIZE)
    try:
        with transaction.atomic():
            ids = open_case_ids(version.pack_id)
            run = ReevaluationRun.objects.create(
                pack_version=version, reason=publication_reason(version), total_cases=len(ids)
            )
            ReevaluationChunk.objects.bulk_create(
                ReevaluationChunk(run=run, number=n, case_ids=ids[start : start + size])
                for n, start in enumerate(range(0, len(ids), size), start=1)
            )
    except IntegrityError:
        # Another process started it a moment ago (the unique constraint on the version).
        return ReevaluationRun.objects.get(pack_version_id=pack_version_id)
    if not ids:
        finish_if_complete(run.pk)
    return ReevaluationRun.objects.get(pk=run.pk)


def claim_chunk(chunk_id: int, now: dt.datetime) -> bool:
    """Hold a chunk for LEASE seconds; False when applied or held by a live worker."""
    lease = dt.timedelta(seconds=settings.REEVALUATION_LEASE_SECONDS)
    return bool(
        ReevaluationChunk.objects.filter(pk=chunk_id, applied_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + lease, attempts=F("attempts") + 1)
    )


@dataclass(frozen=True)
class Snapshot:
    due: dt.date | None
    status: str
    label: str
    texts: dict[str, object]


def _snapshot(deadlines: Iterable[Deadline], day: dt.date) -> dict[str, Snapshot]:
    return {d.key: Snapshot(d.due, d.status_on(day), d.label, d.texts or {}) for d in deadlines}


def _moves(
    run: ReevaluationRun,
    case: Case,
    before: dict[str, Snapshot],
    after: dict[str, Snapshot],
) -> list[DeadlineMove]:
    moves = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and (old.due, old.status) == (new.due, new.status):
            continue
        shown = new or old
        assert shown is not None
        moves.append(
            DeadlineMove(
                run=run,
                case=case,
                assigned_to_id=case.assigned_to_id,
                key=key,
                label=shown.label,
                texts=shown.texts,
                old_due=old.due if old else None,
                new_due=new.due if new else None,
                old_status=old.status if old else "",
                new_status=new.status if new else "",
            )
        )
    return moves


def apply_chunk(chunk_id: int, *, now: dt.datetime | None = None) -> str:
    """Re-evaluate a chunk's cases once: "applied", or "skipped" (applied or held elsewhere)."""
    now = now or timezone.now()
    if not claim_chunk(chunk_id, now):
        return "skipped"
    with transaction.atomic():
        # The applied mark first: a second worker that took the chunk over (lease passed) waits
        # here on PostgreSQL's row lock until this commits, then updates nothing and stops.
        if not ReevaluationChunk.objects.filter(pk=chunk_id, applied_at__isnull=True).update(
            applied_at=now
        ):
            return "skipped"
        chunk = ReevaluationChunk.objects.select_related(
            "run__pack_version__published_by", "run__pack_version__pack"
        ).get(pk=chunk_id)
        run = chunk.run
        day = timezone.localdate(now)
        # Locked in id order, like the alert planner: a caseworker's save waits for the chunk.
        # What is read after the lock (the facts) is what the caseworkers committed.
        locked = list(
            Case.objects.select_for_update(of=("self",))
            .filter(
                pk__in=chunk.case_ids,
                procedure_id=run.pack_version.pack_id,
                state=Case.State.OPEN,  # closed since the run started: its dates no longer matter
            )
            .order_by("pk")
            .values_list(
                "pk", "evaluated_pack_version_id", "evaluated_revision", "evaluation_errors"
            )
        )
        # The fresh published row, read once for the chunk before evaluating (see actions).
        published = published_version(run.pack_version.pack.key) if locked else None
        to_evaluate, to_stamp, new_pack = _narrow(locked, published)
        _stamp(to_stamp, published, new_pack, now)
        # Facts and deadlines of the cases the change can reach, in four queries.
        cases = (
            list(
                Case.objects.filter(pk__in=to_evaluate)
                .select_related("procedure")
                .prefetch_related("events", "new_elements", "deadlines")
                .order_by("pk")
            )
            if to_evaluate
            else []
        )
        user = run.pack_version.published_by
        moves: list[DeadlineMove] = []
        changed: list[int] = []
        evaluated: list[Case] = []
        changed_summaries: list[Case] = []
        errors: list[dict[str, object]] = []
        created: list[Deadline] = []
        updated: list[Deadline] = []
        provenance_only: list[Deadline] = []
        deleted: list[Deadline] = []
        for case in cases:
            existing = list(case.deadlines.all())
            before = _snapshot(existing, day)
            try:
                results = actions.evaluate_case(case, published)
            except actions.CaseRefused as refused:
                # The new rules refuse this case's facts: it keeps its dates, the admin shows it.
                errors.append({"case": case.pk, "errors": refused.errors})
                continue
            found = actions.deadline_changes(case, results, existing, published)
            summary = case.evaluation
            actions.set_evaluated(case, results, published)
            evaluated.append(case)
            if case.evaluation != summary:
                changed_summaries.append(case)
            created += found.created
            updated += found.changed
            provenance_only += found.provenance_only
            deleted += found.deleted
            gone = {d.pk for d in found.deleted}
            after = _snapshot([*found.created, *(d for d in existing if d.pk not in gone)], day)
            case_moves = _moves(run, case, before, after)
            if case_moves:
                moves.extend(case_moves)
                changed.append(case.pk)
        _store(
            created,
            updated,
            provenance_only,
            deleted,
            evaluated,
            changed_summaries,
            user,
            run.reason,
            now,
        )
        actions.refresh_next_due([case.pk for case in evaluated])
        DeadlineMove.objects.bulk_create(moves)
        ReevaluationChunk.objects.filter(pk=chunk_id).update(errors=errors)
        ReevaluationRun.objects.filter(pk=run.pk).update(
            done_cases=F("done_cases") + len(chunk.case_ids),
            changed_cases=F("changed_cases") + len(changed),
            failed_cases=F("failed_cases") + len(errors),
        )
        if evaluated:
            # One alert-planning job for the chunk instead of one per case; every case, not only
            # the moved ones: the new version may also change the alert policy.
            ids = [case.pk for case in evaluated]
            for hook in actions.after_many_deadlines_change:
                transaction.on_commit(lambda hook=hook: hook(ids))  # type: ignore[misc]
    finish_if_complete(run.pk)
    return "applied"


def _narrow(
    locked: Sequence[tuple[int, int | None, str, Any]], published: tuple[int, str] | None
) -> tuple[list[int], list[int], PackDefinition | None]:
    """(cases to evaluate, cases the change cannot reach, the new definition) (cases/reach.py).

    A case is evaluated when its facts can reach what changed between the version it was
    evaluated with and the published one, or when that cannot be told: no version, errors, a
    version whose records changed since, a change that is not narrowed.
    """
    if published is None or not NARROW:
        return [row[0] for row in locked], [], None
    try:
        new = compiled_pack(*published).definition
    except PackUnavailable:
        return [row[0] for row in locked], [], None
    evaluate: list[int] = []
    scope_of: dict[tuple[int, str], frozenset[str] | None] = {}
    candidates: dict[int, frozenset[str]] = {}
    for pk, version_id, revision, errors in locked:
        if errors or version_id is None:
            evaluate.append(pk)
            continue
        key = (version_id, revision)
        if key not in scope_of:
            scope_of[key] = frozenset() if key == tuple(published) else reach_from(version_id, new)
        scope = scope_of[key]
        if scope is None:
            evaluate.append(pk)
        else:
            candidates[pk] = scope
    types = set().union(*candidates.values())
    if types:
        for case_id, event_type in (
            CaseEvent.objects.filter(case_id__in=list(candidates), type__in=types)
            .values_list("case_id", "type")
            .distinct()
        ):
            if case_id in candidates and event_type in candidates[case_id]:
                del candidates[case_id]
                evaluate.append(case_id)
    return sorted(evaluate), sorted(candidates), new


def _stamp(
    case_ids: list[int],
    published: tuple[int, str] | None,
    pack: PackDefinition | None,
    now: dt.datetime,
) -> None:
    """Record the published version on cases it cannot change, as an evaluation would: the
    version on the case and its deadline rows, the pack's number and dates in its results."""
    if not case_ids or published is None or pack is None:
        return
    version_id, revision = published
    Deadline.objects.filter(case_id__in=case_ids).update(
        pack_version=pack.version, pack_version_ref_id=version_id, pack_revision=revision
    )
    shared: dict[str, Any] = {
        "evaluated_at": now,
        "evaluated_pack_version_id": version_id,
        "evaluated_revision": revision,
        "updated_at": now,
    }
    blocks = {lang: rule_pack_block(pack, language_of(lang)) for lang in actions.site_languages()}
    if connection.vendor == "postgresql":
        expression = "evaluation"
        params: list[Any] = []
        for lang, block in blocks.items():
            # create_missing false: a case without results in a language gets none.
            expression = f"jsonb_set({expression}, %s, %s::jsonb, false)"
            params += [[lang, "rule_pack"], json.dumps(block)]
        table = connection.ops.quote_name(Case._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET evaluation = {expression}, "
                + ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in shared)
                + " WHERE id = ANY(%s)",
                [*params, *shared.values(), case_ids],
            )
        return
    Case.objects.filter(pk__in=case_ids).update(**shared)
    stamped = []
    for pk, evaluation in Case.objects.filter(pk__in=case_ids).values_list("pk", "evaluation"):
        for lang, block in blocks.items():
            if isinstance(evaluation.get(lang), dict) and "rule_pack" in evaluation[lang]:
                evaluation[lang]["rule_pack"] = block
        stamped.append(Case(pk=pk, evaluation=evaluation))
    bulk_update_rows(Case, stamped, ["evaluation"])


def _store(
    created: list[Deadline],
    updated: list[Deadline],
    provenance_only: list[Deadline],
    deleted: list[Deadline],
    cases: list[Case],
    changed_summaries: list[Case],
    user: Any,
    reason: str,
    now: dt.datetime,
) -> None:
    """Write only what changed, in bulk; history rows (publisher, reason) for moved deadlines."""
    author = user if user is not None and user.is_authenticated else None
    if created:
        bulk_create_with_history(
            created,
            Deadline,
            batch_size=BATCH,
            default_user=author,
            default_change_reason=reason[:100],
            default_date=now,
        )
    if updated:
        for deadline in updated:
            deadline.updated_at = now  # auto_now is not applied to bulk writes
        bulk_update_rows(
            Deadline, updated, [*actions.CHANGED_FIELDS, *actions.PROVENANCE_FIELDS, "updated_at"]
        )
        Deadline.history.bulk_history_create(
            updated,
            batch_size=BATCH,
            update=True,
            default_user=author,
            default_change_reason=reason[:100],
            default_date=now,
        )
    if provenance_only:
        # Same dates and words from a newer version: no history row for that.
        bulk_update_rows(Deadline, provenance_only, actions.PROVENANCE_FIELDS)
    for deadline in deleted:  # rare (a deadline the new rules no longer produce)
        actions.history_author(deadline, user, reason)
        deadline.delete()
    if cases:
        # What every case of the chunk shares (the version, the time) in one statement; the
        # evaluation summary (not in the case's history) only where it changed.
        first = cases[0]
        Case.objects.filter(pk__in=[case.pk for case in cases]).update(
            evaluation_errors=[],
            evaluated_at=now,
            evaluated_pack_version_id=first.evaluated_pack_version_id,
            evaluated_revision=first.evaluated_revision,
            updated_at=now,
        )
        if changed_summaries:
            bulk_update_rows(Case, changed_summaries, ["evaluation"])


def bulk_update_rows(model: type[Model], objs: list[Any], fields: Sequence[str]) -> None:
    """Write `fields` of many rows: one UPDATE ... FROM (VALUES ...) per batch on PostgreSQL
    (Django's bulk_update builds a CASE per field and row, slow to build for 200 rows)."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, list(fields), batch_size=BATCH)
        return
    columns = [cast("Field[Any, Any]", model._meta.get_field(name)) for name in fields]
    pk = model._meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    assignments = ", ".join(
        f"{quote(f.column)} = v.{quote(f.column)}::{f.db_type(connection)}" for f in columns
    )
    names = ", ".join(quote(c) for c in ["_pk", *(f.column for f in columns)])
    row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            batch = objs[start : start + BATCH]
            params: list[Any] = []
            for obj in batch:
                params.append(obj.pk)
                params.extend(
                    f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns
                )
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(batch))}) "
                f"AS v({names}) WHERE {table}.{quote(pk.column)} = v._pk::{pk.db_type(connection)}",
                params,
            )


def finish_if_complete(run_id: int) -> bool:
    """Mark a run done once every chunk is applied; its hooks run once, on commit."""
    with transaction.atomic():
        if ReevaluationChunk.objects.filter(run_id=run_id, applied_at__isnull=True).exists():
            return False
        finished = ReevaluationRun.objects.filter(
            pk=run_id, state=ReevaluationRun.State.RUNNING
        ).update(state=ReevaluationRun.State.DONE, finished_at=timezone.now())
        if finished:
            for hook in after_run_finished:
                transaction.on_commit(lambda hook=hook: hook(run_id))  # type: ignore[misc]
    return bool(finished)


def chunks_to_queue(now: dt.datetime) -> list[int]:
    """Chunks a worker should take: never queued, held past their lease by a dead worker, or
    queued long ago and never claimed (the message was lost)."""
    requeue = now - dt.timedelta(seconds=settings.REEVALUATION_REQUEUE_SECONDS)
    return list(
        ReevaluationChunk.objects.filter(
            applied_at__isnull=True, run__state=ReevaluationRun.State.RUNNING
        )
        .filter(
            Q(enqueued_at__isnull=True)
            | Q(lease_until__lt=now)
            | Q(lease_until__isnull=True, enqueued_at__lt=requeue)
        )
        .order_by("run_id", "number")
        .values_list("pk", flat=True)
    )


def mark_queued(chunk_ids: Iterable[int], now: dt.datetime) -> None:
    """Stamp the chunks just queued. A chunk locked by a worker applying it is left as it is
    (its lease says when it may be taken again): the sweep never waits behind a chunk's
    transaction, which itself may wait behind a caseworker's save."""
    with transaction.atomic():
        free = list(
            ReevaluationChunk.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(chunk_ids))
            .values_list("pk", flat=True)
        )
        ReevaluationChunk.objects.filter(pk__in=free).update(enqueued_at=now)


def finish_complete_runs() -> list[int]:
    """Runs whose last chunk was applied by a worker that died before finishing the run."""
    running = ReevaluationRun.objects.filter(state=ReevaluationRun.State.RUNNING).values_list(
        "pk", flat=True
    )
    return [run_id for run_id in running if finish_if_complete(run_id)]


def recomputing_versions() -> dict[int, int]:
    """{procedure id: published version id} for each procedure being re-evaluated now."""
    procedures = set(
        ReevaluationRun.objects.filter(state=ReevaluationRun.State.RUNNING).values_list(
            "pack_version__pack_id", flat=True
        )
    )
    if not procedures:
        return {}
    # Ordered by number: the newest published version of each procedure wins.
    return dict(
        PackVersion.objects.filter(pack_id__in=procedures, status=PackVersion.Status.PUBLISHED)
        .order_by("pack_id", "number")
        .values_list("pack_id", "pk")
    )


def is_recomputing(case: Case, running: dict[int, int]) -> bool:
    """Whether the case's dates await the running re-evaluation of its procedure."""
    version_id = running.get(case.procedure_id)
    return (
        version_id is not None
        and case.state == Case.State.OPEN
        and case.evaluated_pack_version_id != version_id
    )
