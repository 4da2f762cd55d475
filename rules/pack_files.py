"""Pack files in the admin: read an uploaded file (errors with field and line), show what it would
change against the pack's newest version, import it as a new draft, and export any version.

The export is byte for byte what `manage.py exportrulepack` writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from .change_reasons import recorded_as
from .engine.file_lines import field_lines, line_of
from .engine.pack import PackError, dump_pack, parse_pack
from .models import PackVersion
from .packstore import definition, load_pack, pack_dict


def pack_file_text(data: dict[str, Any]) -> str:
    """The pack file's text: indented JSON, UTF-8 characters kept, a final newline."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def export_text(version: PackVersion) -> str:
    """The pack file of a version (PackError when its records are invalid)."""
    return pack_file_text(dump_pack(definition(version)))


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str


class PackFileError(ValueError):
    """A file that cannot be imported; each problem names the field path and the line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.path}: {p.message}" for p in problems[:10]))
        self.problems = problems


def read_pack_file(content: bytes | str) -> dict[str, Any]:
    """The validated content of a pack file; PackFileError naming the fields and lines at fault."""
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = content[: error.start].count(b"\n") + 1
            raise PackFileError([Problem("", line, "the file is not UTF-8 text")]) from error
    else:
        text = content
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PackFileError([Problem("", error.lineno, f"not valid JSON: {error.msg}")]) from error
    try:
        parse_pack(data)
    except PackError as error:
        lines = field_lines(text)
        raise PackFileError(
            [Problem(path, line_of(text, path, lines), message) for path, message in error.errors]
        ) from error
    if not isinstance(data, dict):  # parse_pack refuses anything else; this is for mypy
        raise PackFileError([Problem("", 1, "expected an object")])
    return data


# --- what an import would change ------------------------------------------------------------

# How the records of each list are told apart (None: by position).
_LISTS: dict[tuple[str, ...], dict[str, tuple[str, ...] | None]] = {
    (): {
        "event_types": ("code",),
        "lookup_tables": ("key",),
        "milestones": ("key", "version"),
        "deadline_rules": ("key",),
        "outcomes": ("key",),
        "warnings": ("code", "version"),
    },
    ("lookup_tables",): {"versions": ("version",)},
    ("lookup_tables", "versions"): {"rows": ("key",)},
    ("deadline_rules",): {"versions": ("version",), "alerts": None},
    ("outcomes",): {"rules": ("name", "version")},
}
_NOT_COMPARED = {"format", "version", "translations"}


@dataclass
class RecordChange:
    kind: str  # "added", "removed" or "changed"
    record: str
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)


def _ident(item: Any, names: tuple[str, ...] | None, index: int) -> tuple[Any, ...]:
    if names is None or not isinstance(item, dict):
        return (index + 1,)
    return tuple(item.get(name) for name in names)


def _compare(
    old: dict[str, Any], new: dict[str, Any], kind: tuple[str, ...], label: str
) -> list[RecordChange]:
    nested = _LISTS.get(kind, {})
    skipped = set(nested) | (_NOT_COMPARED if not kind else set())
    changed = [
        (name, old.get(name), new.get(name))
        for name in dict.fromkeys([*old, *new])
        if name not in skipped and old.get(name) != new.get(name)
    ]
    result = [RecordChange("changed", label or "pack", changed)] if changed else []
    for list_name, names in nested.items():
        old_items = {
            _ident(item, names, i): item for i, item in enumerate(old.get(list_name) or [])
        }
        new_items = {
            _ident(item, names, i): item for i, item in enumerate(new.get(list_name) or [])
        }
        for ident, item in new_items.items():
            child = " / ".join(
                part for part in (label, f"{list_name} {' '.join(map(str, ident))}") if part
            )
            if ident not in old_items:
                result.append(RecordChange("added", child))
            else:
                result += _compare(old_items[ident], item, (*kind, list_name), child)
        for ident in old_items:
            if ident not in new_items:
                child = " / ".join(
                    part for part in (label, f"{list_name} {' '.join(map(str, ident))}") if part
                )
                result.append(RecordChange("removed", child))
    return result


def changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[RecordChange]:
    """Records added, removed and changed (field by field) from one pack dict to another."""
    if old is None:
        return [RecordChange("added", f"pack {new.get('key')}")]
    result = _compare(old, new, (), "")
    old_texts = old.get("translations") or {}
    new_texts = new.get("translations") or {}
    for language in dict.fromkeys([*old_texts, *new_texts]):
        before, after = old_texts.get(language) or {}, new_texts.get(language) or {}
        for source in dict.fromkeys([*before, *after]):
            label = f"translations {language} “{source[:60]}”"
            if source not in before:
                result.append(RecordChange("added", label))
            elif source not in after:
                result.append(RecordChange("removed", label))
            elif before[source] != after[source]:
                result.append(
                    RecordChange("changed", label, [("text", before[source], after[source])])
                )
    return result


@dataclass
class ImportPreview:
    data: dict[str, Any]
    base: PackVersion | None
    number: int
    changes: list[RecordChange]


def newest_version(key: str) -> PackVersion | None:
    return PackVersion.objects.filter(pack__key=key).order_by("-number").first()


def preview_import(content: bytes | str) -> ImportPreview:
    """What importing the file would change against the pack's newest version; writes nothing."""
    data = read_pack_file(content)
    base = newest_version(data["key"])
    old = dump_pack(parse_pack(pack_dict(base))) if base is not None else None
    new = dump_pack(parse_pack(data))
    number = base.number + 1 if base is not None else 1
    return ImportPreview(data, base, number, changes(old, new))


@transaction.atomic
def import_as_draft(content: bytes | str, *, user: Any, reason: str) -> PackVersion:
    """Store the file as a new draft of its pack (published versions are never touched)."""
    data = read_pack_file(content)
    base = newest_version(data["key"])
    number = base.number + 1 if base is not None else 1
    with recorded_as(reason, user):
        return load_pack(data, status=PackVersion.Status.DRAFT, number=number)
