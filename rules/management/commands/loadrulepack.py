"""Load rule pack files (default: every pack shipped in rules/packs/) into the database."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rules.engine.pack import PackError, parse_pack
from rules.models import PackVersion
from rules.packstore import definition, load_pack

SHIPPED = Path(__file__).resolve().parents[2] / "packs"


def read_pack_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"{path}: cannot read: {error.strerror}") from error
    try:
        return json.loads(text)
    except ValueError as error:
        raise CommandError(f"{path}: not valid JSON: {error}") from error


def pack_error_text(path: Path, error: PackError) -> str:
    lines = [f"{path}: the pack is invalid:"]
    lines += [f"  {field or '(top level)'}: {message}" for field, message in error.errors]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Load rule pack files into the database. A pack version already loaded with the same "
        "content is left alone; one with different content is refused unless --as-new-version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "files", nargs="*", type=Path, help="pack files (default: rules/packs/*/pack.json)"
        )
        parser.add_argument(
            "--draft", action="store_true", help="load as a draft instead of publishing it"
        )
        parser.add_argument(
            "--as-new-version",
            action="store_true",
            help="when the version number exists with other content, load the "
            "file as the pack's next version",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = options["files"] or sorted(SHIPPED.glob("*/pack.json"))
        if not files:
            raise CommandError("no pack files found")
        status = PackVersion.Status.DRAFT if options["draft"] else PackVersion.Status.PUBLISHED
        for path in files:
            data = read_pack_file(path)
            try:
                parsed = parse_pack(data)
            except PackError as error:
                raise CommandError(pack_error_text(path, error)) from error
            existing = PackVersion.objects.filter(
                pack__key=parsed.key, number=parsed.version
            ).first()
            number = None
            if existing is not None:
                if definition(existing) == parsed:
                    self.stdout.write(f"{parsed.key} v{parsed.version}: already loaded")
                    continue
                if not options["as_new_version"]:
                    raise CommandError(
                        f"{path}: {parsed.key} v{parsed.version} exists with other content; "
                        "use --as-new-version to load it as the next version"
                    )
                versions = PackVersion.objects.filter(pack__key=parsed.key).order_by("-number")
                same = next(
                    (
                        v
                        for v in versions
                        if definition(v) == dataclasses.replace(parsed, version=v.number)
                    ),
                    None,
                )
                if same is not None:
                    self.stdout.write(
                        f"{parsed.key}: this file is already loaded as v{same.number}"
                    )
                    continue
                number = versions[0].number + 1
            try:
                version = load_pack(data, status=status, number=number)
            except PackError as error:
                raise CommandError(pack_error_text(path, error)) from error
            self.stdout.write(
                self.style.SUCCESS(f"{parsed.key} v{version.number}: loaded ({version.status})")
            )
