"""Re-evaluate the open cases of a published pack version, or queue what is left to do."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rules.models import PackVersion

from ...tasks import start_reevaluation, sweep


class Command(BaseCommand):
    help = (
        "Start the re-evaluation of every open case of a published pack version (by id), or "
        "with --sweep queue the chunks and impact runs a dead worker or a lost message left."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pack_version_id", nargs="?", type=int)
        parser.add_argument("--sweep", action="store_true", help="queue what is left to do")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sweep"]:
            self.stdout.write(f"{sweep()} chunks queued")
            return
        version_id = options["pack_version_id"]
        if version_id is None:
            raise CommandError("give a published pack version id, or --sweep")
        status = PackVersion.objects.filter(pk=version_id).values_list("status", flat=True).first()
        if status != PackVersion.Status.PUBLISHED:
            raise CommandError(f"pack version {version_id} is not a published version")
        start_reevaluation(version_id)
        self.stdout.write(f"re-evaluation of pack version {version_id} started")
