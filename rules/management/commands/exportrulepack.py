"""Write a pack version in the pack file format (the format loadrulepack reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rules.engine.pack import PackError
from rules.models import PackVersion
from rules.pack_files import export_text


class Command(BaseCommand):
    help = "Export a rule pack version as a pack file (default: the published version, to stdout)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="the pack's key, e.g. asylum-reexamination")
        parser.add_argument(
            "--pack-version",
            type=int,
            dest="number",
            help="pack version number (default: the newest published)",
        )
        parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        versions = PackVersion.objects.filter(pack__key=options["key"])
        if options["number"] is not None:
            versions = versions.filter(number=options["number"])
        else:
            versions = versions.filter(status=PackVersion.Status.PUBLISHED)
        version = versions.order_by("-number").first()
        if version is None:
            raise CommandError(
                f"no such pack version: {options['key']}"
                + (f" v{options['number']}" if options["number"] else "")
            )
        try:
            text = export_text(version)
        except PackError as error:
            raise CommandError(f"{version} is invalid and cannot be exported: {error}") from error
        if options["output"]:
            try:
                options["output"].write_text(text, encoding="utf-8")
            except OSError as error:
                raise CommandError(f"{options['output']}: {error.strerror}") from error
        else:
            self.stdout.write(text, ending="")
