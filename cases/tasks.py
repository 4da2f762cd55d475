"""Background work of the cases app: the daily anonymisation of closed cases."""

from __future__ import annotations

import logging

from celery import shared_task

from .privacy import anonymise_closed_cases as anonymise_due_cases

logger = logging.getLogger(__name__)

ANONYMISE_TASK = "cases.anonymise_closed_cases"


@shared_task(name=ANONYMISE_TASK, acks_late=True, ignore_result=True)
def anonymise_closed_cases() -> int:
    """Idempotent: a case anonymised once is skipped; a run cut short resumes the next day."""
    count = anonymise_due_cases()
    logger.info("anonymised %d closed case(s) past their retention period", count)
    return count
