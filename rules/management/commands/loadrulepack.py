"""Load rule pack files (default: every pack shipped in rules/packs/) into the database.

A pack's first version is published as it loads; later versions load as drafts, published in
the admin or here with --publish, through the workbench's four-eyes publishing
(rules/workbench.publish): --by the person publishing, --author the person who wrote the file
(by default the same, which RULES_ALLOW_SELF_PUBLISH must then allow), --reason why.
Scenario files in a `scenarios/` folder beside the pack file become the pack's scenarios (only
names it has never had), and a draft that breaks one is not published.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from rules import workbench
from rules.engine.pack import PackError, parse_pack
from rules.models import PackVersion
from rules.packstore import definition, load_pack
from rules.scenarios import load_shipped_scenarios

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
            "--publish",
            action="store_true",
            help="publish the loaded version (four eyes: needs --by and --reason, and --author "
            "when the person publishing did not write the file)",
        )
        parser.add_argument("--by", metavar="USERNAME", help="who publishes (with --publish)")
        parser.add_argument(
            "--author",
            metavar="USERNAME",
            help="who wrote or last changed the file (default: --by); recorded as the draft's "
            "last editor",
        )
        parser.add_argument("--reason", help="why it is published (kept in the history)")
        parser.add_argument(
            "--as-new-version",
            action="store_true",
            help="when the version number exists with other content, load the "
            "file as the pack's next version",
        )

    def _user(self, username: str | None, option: str) -> Any:
        if not username:
            return None
        user = get_user_model()._default_manager.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"{option}: no active user {username!r}")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = options["files"] or sorted(SHIPPED.glob("*/pack.json"))
        if not files:
            raise CommandError("no pack files found")
        publish = options["publish"]
        if publish and options["draft"]:
            raise CommandError("--publish and --draft contradict each other")
        if publish and not (options["by"] and (options["reason"] or "").strip()):
            raise CommandError("--publish needs --by USERNAME and --reason TEXT")
        if not publish and (options["by"] or options["author"] or options["reason"]):
            raise CommandError("--by, --author and --reason go with --publish")
        publisher = self._user(options["by"], "--by")
        author = self._user(options["author"], "--author") or publisher
        for path in files:
            with transaction.atomic():
                self._load(path, options, publisher, author)

    def _load(self, path: Path, options: dict[str, Any], publisher: Any, author: Any) -> None:
        data = read_pack_file(path)
        try:
            parsed = parse_pack(data)
        except PackError as error:
            raise CommandError(pack_error_text(path, error)) from error
        existing = PackVersion.objects.filter(pack__key=parsed.key, number=parsed.version).first()
        number = None
        version: PackVersion | None = None
        if existing is not None:
            if definition(existing) == parsed:
                version = existing
            elif not options["as_new_version"]:
                raise CommandError(
                    f"{path}: {parsed.key} v{parsed.version} exists with other content; "
                    "use --as-new-version to load it as the next version"
                )
            else:
                versions = PackVersion.objects.filter(pack__key=parsed.key).order_by("-number")
                version = next(
                    (
                        v
                        for v in versions
                        if definition(v) == dataclasses.replace(parsed, version=v.number)
                    ),
                    None,
                )
                number = versions[0].number + 1
        if version is not None and not (options["publish"] and version.is_draft):
            where = "" if version.number == parsed.version else f" as v{version.number}"
            self.stdout.write(f"{parsed.key} v{parsed.version}: already loaded{where}")
            self._scenarios(path, version)
            return
        if version is None:
            has_published = PackVersion.objects.filter(
                pack__key=parsed.key, status=PackVersion.Status.PUBLISHED
            ).exists()
            status = (
                PackVersion.Status.DRAFT
                if options["draft"] or options["publish"] or has_published
                else PackVersion.Status.PUBLISHED
            )
            try:
                version = load_pack(data, status=status, number=number)
            except PackError as error:
                raise CommandError(pack_error_text(path, error)) from error
            self.stdout.write(
                self.style.SUCCESS(f"{parsed.key} v{version.number}: loaded ({version.status})")
            )
            if has_published and not options["draft"] and not options["publish"]:
                self.stdout.write(
                    f"{parsed.key} v{version.number} is a draft: publish it in the admin, or "
                    "with loadrulepack FILE --publish --by USERNAME --reason TEXT"
                )
        self._scenarios(path, version)
        if options["publish"]:
            workbench.mark_edited(version, author)
            try:
                workbench.publish(version, user=publisher, reason=options["reason"])
            except workbench.PublishRefused as error:
                lines = [f"{path}: {parsed.key} v{version.number} was not published:"]
                lines += [f"  {sentence}" for sentence in error.sentences]
                if author == publisher and any("last change" in s for s in error.sentences):
                    lines.append(
                        "  (name the file's author with --author USERNAME, another person "
                        "than --by, or allow it with RULES_ALLOW_SELF_PUBLISH)"
                    )
                raise CommandError("\n".join(lines)) from error
            self.stdout.write(
                self.style.SUCCESS(f"{parsed.key} v{version.number}: published by {publisher}")
            )

    def _scenarios(self, path: Path, version: PackVersion) -> None:
        folder = path.resolve().parent / "scenarios"
        if folder.is_dir():
            added = load_shipped_scenarios(version.pack, folder)
            if added:
                self.stdout.write(f"{version.pack.key}: {added} scenario(s) added")
