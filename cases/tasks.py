"""Celery tasks of the cases app: re-evaluation after publishing, a draft's impact, retention.

They take ids and can run twice without harm (late acknowledgement, project/celery.py): a
chunk is claimed with a conditional update and applied once (cases/reevaluation.py), an impact
run resumes from its stored progress (cases/impact.py). The database says what is left to do;
`sweep_reevaluations` (beat, and each worker start) queues it again when a message was lost.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task, signals
from django.db import connection
from django.utils import timezone

from project.celery import app

from . import impact, reevaluation
from .privacy import anonymise_closed_cases as anonymise_due_cases

logger = logging.getLogger(__name__)


@shared_task(name="cases.apply_reevaluation_chunk", acks_late=True, ignore_result=True)
def apply_reevaluation_chunk(chunk_id: int) -> str:
    return reevaluation.apply_chunk(chunk_id)


@shared_task(name="cases.run_impact", acks_late=True, ignore_result=True)
def run_impact(run_id: int) -> None:
    impact.run_to_end(run_id)


@shared_task(name="cases.tidy_after_reevaluation", acks_late=True, ignore_result=True)
def tidy_after_reevaluation(run_id: int) -> None:
    """After a run: free the row versions it left behind (reevaluation.tidy_tables)."""
    reevaluation.tidy_tables()


def queue_tidy(run_id: int) -> None:
    """reevaluation.after_run_finished hook, on commit (PostgreSQL's tables only)."""
    if connection.vendor != "postgresql":
        return
    try:
        tidy_after_reevaluation.delay(run_id)
    except Exception as error:  # the broker down: autovacuum, where it runs, does it later
        logger.warning("re-evaluation %d: tables not tidied (%s)", run_id, type(error).__name__)


@shared_task(name="cases.sweep_reevaluations", acks_late=True, ignore_result=True)
def sweep_reevaluations() -> None:
    """Beat: queue chunks and impact runs left behind, finish runs whose chunks are applied."""
    sweep()


def queue_chunks(chunk_ids: list[int]) -> int:
    """Queue a task per chunk; what the broker refused stays unqueued for the next sweep."""
    now = timezone.now()
    queued: list[int] = []
    try:
        if app.conf.task_always_eager:
            for pk in chunk_ids:
                queued.append(pk)
                apply_reevaluation_chunk.apply_async((pk,))
        else:
            with app.producer_or_acquire() as producer:
                for pk in chunk_ids:
                    apply_reevaluation_chunk.apply_async((pk,), producer=producer)
                    queued.append(pk)
    except Exception as error:  # kombu's OperationalError, redis' ConnectionError, OSError...
        logger.warning(
            "re-evaluation: %d of %d chunks queued (%s); the sweep queues the rest",
            len(queued),
            len(chunk_ids),
            type(error).__name__,
        )
    reevaluation.mark_queued(queued, now)
    return len(queued)


def sweep() -> int:
    """Queue what is left to do; returns how many chunks were queued."""
    reevaluation.finish_complete_runs()
    queued = queue_chunks(reevaluation.chunks_to_queue(timezone.now()))
    for run_id in impact.runs_to_resume(timezone.now()):
        queue_impact(run_id)
    return queued


def start_reevaluation(pack_version_id: int) -> None:
    """rules.workbench.after_publish hook, on commit: store the run and queue its chunks.

    The run and its chunks are rows before any message is sent: with the broker down, the
    sweep queues them later and the case pages already say the dates are being recomputed.
    """
    run = reevaluation.start_run(pack_version_id)
    chunk_ids = list(
        run.chunks.filter(applied_at__isnull=True, enqueued_at__isnull=True)
        .order_by("number")
        .values_list("pk", flat=True)
    )
    queue_chunks(chunk_ids)


def queue_impact(run_id: int) -> None:
    try:
        run_impact.delay(run_id)
    except Exception as error:
        logger.warning(
            "impact run %d not queued (%s); the sweep queues it", run_id, type(error).__name__
        )


@signals.worker_ready.connect
def _sweep_on_start(**kwargs: Any) -> None:
    """A restarted worker takes back what is left (chunks whose lease has passed)."""
    try:
        sweep()
    except Exception:
        logger.exception("re-evaluation sweep at worker start failed")


ANONYMISE_TASK = "cases.anonymise_closed_cases"


@shared_task(name=ANONYMISE_TASK, acks_late=True, ignore_result=True)
def anonymise_closed_cases() -> int:
    """Idempotent: a case anonymised once is skipped; a run cut short resumes the next day."""
    count = anonymise_due_cases()
    logger.info("anonymised %d closed case(s) past their retention period", count)
    return count
