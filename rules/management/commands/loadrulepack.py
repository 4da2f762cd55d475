"""Load rule pack files into the database: the shipped versions, or the files named.

Without files (what `make run` and the deployment run), every version shipped in rules/packs/
loads, pack by pack: `<pack>/pack.json` and every `<pack>/v*/pack.json`, in the order of the
`version` number each file declares. The first version a database gets is published as it
loads; the highest shipped version is then published through the workbench's publishing for
shipped files (rules/workbench.publish_shipped: scenarios must pass, the previous version
retires, open cases are re-evaluated), with the file's name and its `publish-reason.txt` as the
reason. The repository's review of the file stands for the four eyes. A shipped version whose
number the database already holds with other content (legal staff's own) is never overwritten:
the file loads as a draft under the next number, and the command says so.

Files named on the command line: a pack's first version is published as it loads; later
versions load as drafts, published in the admin or here with --publish, through the workbench's
four-eyes publishing (rules/workbench.publish): --by the person publishing, --author the person
who wrote the file (by default the same, which RULES_ALLOW_SELF_PUBLISH must then allow),
--reason why. Scenario files in a `scenarios/` folder beside the pack file become the pack's
scenarios (only names it has never had), and a draft that breaks one is not published.
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
from rules.scenarios import follow_shipped_scenarios, load_shipped_scenarios

SHIPPED = Path(__file__).resolve().parents[2] / "packs"
ROOT = SHIPPED.parents[1]
# Beside a shipped pack file: why this version is published (one or a few lines).
PUBLISH_REASON_FILE = "publish-reason.txt"


def shown(path: Path) -> str:
    """A path as the repository names it (rules/packs/<pack>/v2/pack.json)."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def shipped_versions(folder: Path) -> list[tuple[int, Path]]:
    """A shipped pack's files, `pack.json` and `v<n>/pack.json`, by the version each declares.

    The folder name only finds the file: the order is the `version` number inside it, and two
    files declaring the same number are refused.
    """
    later = [p for p in folder.glob("v*/pack.json") if p.parent.name[1:].isdigit()]
    files = [folder / "pack.json", *sorted(later)]
    found: dict[int, Path] = {}
    for path in files:
        if not path.is_file():
            continue
        data = read_pack_file(path)
        number = data.get("version") if isinstance(data, dict) else None
        if not isinstance(number, int) or isinstance(number, bool):
            raise CommandError(f"{shown(path)}: version: expected a whole number")
        if number in found:
            raise CommandError(
                f"{shown(path)} and {shown(found[number])} both declare version {number}"
            )
        found[number] = path
    return sorted(found.items())


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
            "files",
            nargs="*",
            type=Path,
            help="pack files (default: every shipped version, rules/packs/*/pack.json and "
            "rules/packs/*/v<n>/pack.json, the highest published)",
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
        files: list[Path] = options["files"]
        publish = options["publish"]
        if publish and options["draft"]:
            raise CommandError("--publish and --draft contradict each other")
        if publish and not (options["by"] and (options["reason"] or "").strip()):
            raise CommandError("--publish needs --by USERNAME and --reason TEXT")
        if not publish and (options["by"] or options["author"] or options["reason"]):
            raise CommandError("--by, --author and --reason go with --publish")
        publisher = self._user(options["by"], "--by")
        author = self._user(options["author"], "--author") or publisher
        if not files:
            if publish:
                raise CommandError(
                    "--publish goes with pack files: without files, the shipped versions are "
                    "published as shipped files"
                )
            self._load_shipped(draft=options["draft"])
            return
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

    def _load_shipped(self, *, draft: bool) -> None:
        folders = sorted(p.parent for p in SHIPPED.glob("*/pack.json"))
        if not folders:
            raise CommandError("no pack files found")
        for folder in folders:
            versions = shipped_versions(folder)
            for position, (_, path) in enumerate(versions):
                with transaction.atomic():
                    self._load_one_shipped(
                        path,
                        draft=draft,
                        highest=position == len(versions) - 1,
                        earlier=[p for _, p in versions[:position]],
                    )

    def _load_one_shipped(
        self, path: Path, *, draft: bool, highest: bool, earlier: list[Path]
    ) -> None:
        data = read_pack_file(path)
        try:
            parsed = parse_pack(data)
        except PackError as error:
            raise CommandError(pack_error_text(path, error)) from error
        name = f"{parsed.key} v{parsed.version}"
        versions = PackVersion.objects.filter(pack__key=parsed.key)
        existing = versions.filter(number=parsed.version).first()
        if existing is not None and definition(existing) != parsed:
            self._load_beside(path, data, parsed, existing)
            return
        published = versions.filter(status=PackVersion.Status.PUBLISHED).first()
        if existing is None:
            status = (
                PackVersion.Status.PUBLISHED
                if published is None and not draft
                else PackVersion.Status.DRAFT
            )
            try:
                version = load_pack(data, status=status)
            except PackError as error:
                raise CommandError(pack_error_text(path, error)) from error
            self.stdout.write(self.style.SUCCESS(f"{name}: loaded ({version.status})"))
            if version.status == PackVersion.Status.PUBLISHED:
                # The first version of a database: published as it loads, from this file.
                PackVersion.objects.filter(pk=version.pk).update(
                    publish_reason=f"first version, loaded from the shipped pack file {shown(path)}"
                )
        else:
            version = existing
            self.stdout.write(f"{name}: already loaded ({version.status})")
        if draft or version.status != PackVersion.Status.DRAFT:
            self._scenarios(path, version)
            return
        if not highest:
            self._scenarios(path, version)
            self.stdout.write(f"{name} stays a draft: a later shipped version is published")
            return
        if published is not None and published.number > version.number:
            self.stdout.write(
                f"{name} stays a draft: v{published.number}, published in this database, is newer"
            )
            return
        self._publish_shipped(path, version, earlier)

    def _publish_shipped(self, path: Path, version: PackVersion, earlier: list[Path]) -> None:
        name = f"{version.pack.key} v{version.number}"
        note_file = path.parent / PUBLISH_REASON_FILE
        note = (
            " ".join(note_file.read_text(encoding="utf-8").split()) if note_file.is_file() else ""
        )
        reason = f"shipped pack file {shown(path)}, reviewed in the repository" + (
            f": {note}" if note else ""
        )
        folder = path.resolve().parent / "scenarios"
        try:
            with transaction.atomic():
                if folder.is_dir():
                    synced = follow_shipped_scenarios(
                        version.pack,
                        folder,
                        [p.resolve().parent / "scenarios" for p in earlier],
                        shown_as=shown(folder),
                    )
                    for what, names in (
                        ("added", synced.added),
                        ("updated from the shipped files", synced.updated),
                        ("removed (no longer shipped)", synced.removed),
                    ):
                        if names:
                            self.stdout.write(
                                f"{version.pack.key}: {len(names)} scenario(s) {what}"
                            )
                workbench.publish_shipped(version, reason=reason)
        except workbench.PublishRefused as error:
            lines = [
                f"{shown(path)}: {name} was NOT published; it stays a draft and "
                f"v{published_number(version)} stays published:"
            ]
            lines += [f"  {sentence}" for sentence in error.sentences]
            lines.append("  (correct the pack or the scenarios, then publish it in the admin)")
            self.stderr.write("\n".join(lines))
            return
        self.stdout.write(self.style.SUCCESS(f"{name}: published ({reason})"))

    def _load_beside(self, path: Path, data: Any, parsed: Any, existing: PackVersion) -> None:
        """A shipped version whose number the database holds with other content."""
        name = f"{parsed.key} v{parsed.version}"
        versions = PackVersion.objects.filter(pack__key=parsed.key).order_by("-number")
        same = next(
            (v for v in versions if definition(v) == dataclasses.replace(parsed, version=v.number)),
            None,
        )
        if same is not None:
            self.stdout.write(f"{name}: already loaded as v{same.number} ({same.status})")
            return
        try:
            version = load_pack(
                data, status=PackVersion.Status.DRAFT, number=versions[0].number + 1
            )
        except PackError as error:
            raise CommandError(pack_error_text(path, error)) from error
        self.stderr.write(
            f"{name} in this database ({existing.status}) is not the shipped file "
            f"{shown(path)}: it is left as it is, and the shipped file is loaded as draft "
            f"v{version.number}, NOT published. Legal staff: compare the two in the admin and "
            "publish the one that is right."
        )

    def _scenarios(self, path: Path, version: PackVersion) -> None:
        folder = path.resolve().parent / "scenarios"
        if folder.is_dir():
            added = load_shipped_scenarios(version.pack, folder)
            if added:
                self.stdout.write(f"{version.pack.key}: {added} scenario(s) added")


def published_number(version: PackVersion) -> int | None:
    return (
        PackVersion.objects.filter(pack_id=version.pack_id, status=PackVersion.Status.PUBLISHED)
        .values_list("number", flat=True)
        .first()
    )
