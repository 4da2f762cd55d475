"""Anonymise closed cases past CASE_RETENTION_DAYS now (the daily task does the same)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from cases.privacy import anonymise_case, cases_to_anonymise


class Command(BaseCommand):
    help = "Anonymise the personal data of cases closed more than CASE_RETENTION_DAYS ago."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the cases that would be anonymised (id, closing date) and change nothing.",
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        days = settings.CASE_RETENTION_DAYS
        if days <= 0:
            self.stdout.write("CASE_RETENTION_DAYS is 0: cases are never anonymised.")
            return
        due = list(cases_to_anonymise().values_list("pk", "closed_at"))
        verb = "would be anonymised" if dry_run else "anonymised"
        for case_id, closed_at in due:
            # Ids only: the names are what is being removed.
            if dry_run or anonymise_case(case_id):
                self.stdout.write(f"case {case_id} (closed {closed_at:%Y-%m-%d}) {verb}")
        self.stdout.write(f"{len(due)} case(s) {verb} (closed more than {days} days ago).")
