"""Run the alert planner once, in the foreground, as beat's task does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.planner import run_planner


class Command(BaseCommand):
    help = "Plan every case's deadline alerts, then queue those that are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--case",
            type=int,
            action="append",
            dest="cases",
            help="Only this case id (repeatable).",
        )
        parser.add_argument("--no-dispatch", action="store_true", help="Plan only; queue nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        run = run_planner(dispatch=not options["no_dispatch"], case_ids=options["cases"])
        self.stdout.write(
            f"{run.cases} cases: {run.created} alerts created, {run.revived} revived, "
            f"{run.cancelled} cancelled, {run.enqueued} queued"
        )
