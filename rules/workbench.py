"""The legal staff's workbench: drafts, new rule versions and four-eyes publishing.

The admin, the commands and the tests call these functions; none of the logic lives in the admin.
Every change is made in a draft pack version (published and retired ones are read-only, see
rules.models.ReadOnlyVersion); publishing swaps the published version in one transaction and
then calls the `after_publish` hooks on commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction
from django.utils import timezone

from .engine.pack import PackError
from .models import (
    DeadlineRuleVersion,
    LookupRow,
    LookupTableVersion,
    Milestone,
    OutcomeRule,
    PackVersion,
    ReadOnlyVersion,
    RulePack,
    WarningRule,
)
from .packstore import _pack_version_of, definition

# Called on commit with the id of a pack version that was just published (ids, not objects).
# cases/ subscribes here to re-evaluate every open case of the procedure.
after_publish: list[Callable[[int], None]] = []

User = AbstractBaseUser | AnonymousUser
HISTORY_REASON_LENGTH = 100  # simple-history's history_change_reason column


class Refused(Exception):
    """A workbench action was refused; `sentences` say why, for a lawyer to read."""

    def __init__(self, sentences: Sequence[str]) -> None:
        self.sentences = list(sentences)
        super().__init__(" ".join(self.sentences))


class PublishRefused(Refused):
    """A draft was not published."""


def day(value: dt.date | None) -> str:
    """A date as a lawyer reads it in a sentence: 5 Apr 2026."""
    return f"{value.day} {value:%b %Y}" if value else ""


def span(start: dt.date | None, end: dt.date | None) -> str:
    if start and end:
        return f"{day(start)} \u2013 {day(end)}"  # an en dash
    if start:
        return f"from {day(start)}"
    if end:
        return f"until {day(end)}"
    return "always"


def _history(obj: models.Model, user: User | None, reason: str) -> None:
    obj._change_reason = reason[:HISTORY_REASON_LENGTH]  # type: ignore[attr-defined]
    if user is not None and user.is_authenticated:
        obj._history_user = user  # type: ignore[attr-defined]


# --- drafts ---------------------------------------------------------------------------------


def pack_version_of(record: models.Model) -> PackVersion | None:
    """The pack version a record belongs to (itself for a pack version)."""
    return _pack_version_of(record)


def is_editable(record: models.Model) -> bool:
    """Whether a record may be changed: it belongs to a draft (or to no saved version yet)."""
    version = pack_version_of(record)
    if version is None or version.pk is None:
        return True
    status = PackVersion.objects.filter(pk=version.pk).values_list("status", flat=True).first()
    return status in (None, PackVersion.Status.DRAFT)


def ensure_draft(version: PackVersion) -> None:
    """Raise ReadOnlyVersion unless the pack version is (still) a draft."""
    status = PackVersion.objects.filter(pk=version.pk).values_list("status", flat=True).first()
    if status is not None and status != PackVersion.Status.DRAFT:
        version.status = status
        raise ReadOnlyVersion(version)


def mark_edited(version: PackVersion | int, user: User | None) -> None:
    """Record who last changed a draft's content, and when (the four-eyes check reads it)."""
    version_id = version if isinstance(version, int) else version.pk
    editor = user if user is not None and user.is_authenticated else None
    PackVersion.objects.filter(pk=version_id, status=PackVersion.Status.DRAFT).update(
        last_edited_by=editor, last_edited_at=timezone.now()
    )


@dataclasses.dataclass(frozen=True)
class Period:
    """One version of a rule and the days it is in force, as typed (saved or not)."""

    version: int
    start: dt.date | None
    end: dt.date | None
    overlap_key: tuple[str, ...] = ()
    # Departments a deadline rule version is limited to (empty: every department).
    departments: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return f"version {self.version} ({span(self.start, self.end)})"


def period_of(record: Any) -> Period:
    if isinstance(record, DeadlineRuleVersion):
        return Period(
            record.version,
            record.effective_from,
            record.effective_to,
            (record.trigger_occurrence,),
            frozenset(record.department_list),
        )
    return Period(record.version, record.effective_from, record.effective_to)


def overlap_sentences(periods: Iterable[Period]) -> list[str]:
    """Sentences naming every two versions of one rule that would be in force on the same day.

    As the engine judges them (rules/engine/validation.py): a version limited to departments
    wins over one without for its departments, so only two versions that both list one of the
    same departments (or that both list none) may not be in force on the same day.
    """
    ordered = sorted(periods, key=lambda p: (p.start or dt.date.min, p.version))
    sentences = []
    for i, earlier in enumerate(ordered):
        for later in ordered[i + 1 :]:
            if (
                earlier.overlap_key != later.overlap_key
                and "any" not in earlier.overlap_key + later.overlap_key
            ):
                continue
            if bool(earlier.departments) != bool(later.departments):
                continue
            shared = sorted(earlier.departments & later.departments)
            if earlier.departments and not shared:
                continue
            first = max(earlier.start or dt.date.min, later.start or dt.date.min)
            last = min(earlier.end or dt.date.max, later.end or dt.date.max)
            if first <= last:
                when = day(first) if first != dt.date.min else "every day before it ends"
                where = f" in department {shared[0]}" if shared else ""
                sentences.append(
                    f"{later} would be in force{where} on {when} together with {earlier}: "
                    "end one the day before the other starts."
                )
    return sentences


@dataclasses.dataclass(frozen=True)
class VersionedKind:
    """How to find the other versions of a rule whose versions are records of this model."""

    parent: str
    identity: tuple[str, ...] = ()


VERSIONED: dict[type[models.Model], VersionedKind] = {
    DeadlineRuleVersion: VersionedKind("rule"),
    LookupTableVersion: VersionedKind("table"),
    Milestone: VersionedKind("pack_version", ("key",)),
    OutcomeRule: VersionedKind("outcome", ("name",)),
    WarningRule: VersionedKind("pack_version", ("code",)),
}
# Fields a new version never copies: who it is, and when it is in force.
NOT_COPIED = frozenset({"id", "version", "effective_from", "effective_to"})


def versions_of(record: models.Model) -> models.QuerySet[Any]:
    """Every version of the rule that `record` is a version of, oldest first."""
    kind = VERSIONED[type(record)]
    filters = {f"{kind.parent}_id": getattr(record, f"{kind.parent}_id")}
    filters.update({name: getattr(record, name) for name in kind.identity})
    return type(record)._default_manager.filter(**filters).order_by("version")


def newest_version(record: models.Model) -> Any:
    """The newest version of the rule that `record` is a version of (the one in force last)."""
    return versions_of(record).order_by("-version").first()


def editable_fields(model: type[models.Model]) -> list[str]:
    """The fields a person fills in for a new version (its parent and identity stay)."""
    kind = VERSIONED[model]
    fixed = NOT_COPIED | {kind.parent, "position", *kind.identity}
    return [
        f.name
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in fixed
    ]


@transaction.atomic
def add_version(
    source: Any,
    *,
    effective_from: dt.date,
    changes: dict[str, Any],
    user: User | None,
    reason: str,
) -> Any:
    """Add a version of a rule in force from a day, closing the version in force the day before.

    `source` is a version of the rule (the newest one is copied); `changes` the fields typed in
    the form. One save: the new version and the previous one's end date are judged together,
    then the whole pack; PackError or Refused leaves nothing changed.
    """
    version = pack_version_of(source)
    if version is None:
        raise Refused(["This record belongs to no pack version."])
    ensure_draft(version)
    if not reason.strip():
        raise Refused(["Say why this version is added (the history keeps the reason)."])
    siblings = list(versions_of(source).select_for_update())
    newest = max(siblings, key=lambda v: v.version)
    later = [v for v in siblings if v.effective_from and v.effective_from >= effective_from]
    if later:
        raise Refused(
            [
                f"{period_of(v)} already starts on or after {day(effective_from)}: "
                "a new version must start after every existing one."
                for v in later
            ]
        )
    model = type(source)
    allowed = set(editable_fields(model))
    unknown = set(changes) - allowed
    if unknown:
        raise Refused([f"{name}: cannot be set on a new version." for name in sorted(unknown)])
    closed_on = effective_from - dt.timedelta(days=1)
    for sibling in siblings:
        if sibling.effective_to is None or sibling.effective_to >= effective_from:
            sibling.effective_to = closed_on
            _history(sibling, user, f"ends {closed_on.isoformat()}: {reason}")
            sibling.save()
    new = model()
    for field in model._meta.concrete_fields:
        if not field.primary_key and field.name not in NOT_COPIED:
            setattr(new, field.attname, getattr(newest, field.attname))
    for name, value in changes.items():
        setattr(new, name, value)
    new.version = max(v.version for v in siblings) + 1
    new.effective_from = effective_from
    new.effective_to = None
    _history(new, user, reason)
    new.save()
    if isinstance(new, LookupTableVersion):
        LookupRow.objects.bulk_create(
            [
                LookupRow(
                    table_version=new,
                    position=row.position,
                    key=row.key,
                    value=row.value,
                    label=row.label,
                    confidence=row.confidence,
                    notes=row.notes,
                )
                for row in newest.rows.all()
            ]
        )
    try:
        definition(version)
    except PackError as error:
        raise Refused(
            [f"{path}: {message}" if path else message for path, message in error.errors]
        ) from error
    mark_edited(version, user)
    return new


# --- publishing -----------------------------------------------------------------------------


def self_publish_allowed() -> bool:
    return bool(getattr(settings, "RULES_ALLOW_SELF_PUBLISH", False))


def validity_problems(version: PackVersion) -> list[str]:
    """Why a pack version's records do not make a valid pack (empty: valid)."""
    try:
        definition(version)
    except PackError as error:
        return [f"{path}: {message}" if path else message for path, message in error.errors]
    return []


def content_problems(version: PackVersion) -> list[str]:
    """Why a draft's content cannot be published: an invalid pack or a failing scenario."""
    from .scenarios import failures

    invalid = validity_problems(version)
    if invalid:
        return ["The draft is not a valid pack: " + "; ".join(invalid[:10]) + "."]
    failing = failures(version)
    if not failing:
        return []
    return [
        f"{len(failing)} scenario check(s) fail: " + "; ".join(failing) + "."
        if len(failing) <= 20
        else f"{len(failing)} scenario checks fail, among them: " + "; ".join(failing[:20]) + "."
    ]


def not_draft_problems(version: PackVersion) -> list[str]:
    if version.status == PackVersion.Status.DRAFT:
        return []
    return [
        f"{version.pack.key} version {version.number} is {version.status}, not a draft: "
        "only a draft can be published."
    ]


def publish_problems(version: PackVersion, *, user: User | None, reason: str) -> list[str]:
    """Every reason a person cannot publish this version now (empty: they can)."""
    problems: list[str] = []
    has_perm = getattr(user, "has_perm", None)
    if (
        user is None
        or not user.is_authenticated
        or not (has_perm and has_perm("rules.publish_packversion"))
    ):
        problems.append("You do not have the permission to publish rule pack versions.")
    if not_draft_problems(version):
        return problems + not_draft_problems(version)
    if not reason.strip():
        problems.append("Give the reason for publishing (it is kept in the history).")
    if (
        user is not None
        and user.is_authenticated
        and version.last_edited_by_id == user.pk
        and not self_publish_allowed()
    ):
        problems.append(
            "You made the last change to this draft: another person with the publish permission "
            "must check it and publish it."
        )
    return problems + content_problems(version)


def publish(version: PackVersion, *, user: User | None, reason: str) -> PackVersion:
    """Publish a draft (the previous published version retires), then call after_publish.

    Refused with PublishRefused, saying why in sentences: no permission, no reason, not a
    draft, the same person as its last editor (unless RULES_ALLOW_SELF_PUBLISH), an invalid
    pack, or a failing scenario. One transaction, with the pack row locked: at every moment the
    pack has exactly one published version (a database constraint holds it too).
    """
    with transaction.atomic():
        RulePack.objects.select_for_update().get(pk=version.pack_id)
        locked = PackVersion.objects.select_related("pack").get(pk=version.pk)
        problems = publish_problems(locked, user=user, reason=reason)
        if problems:
            raise PublishRefused(problems)
        assert user is not None  # publish_problems refuses anonymous publishing
        alone = locked.last_edited_by_id is not None and locked.last_edited_by_id == user.pk
        note = " (published alone by its last editor, as RULES_ALLOW_SELF_PUBLISH allows)"
        # The history's reason column is short: keep the note whole, the reason shortened.
        history_reason = (
            (reason.strip()[: HISTORY_REASON_LENGTH - len(note)] + note)
            if alone
            else reason.strip()
        )
        _swap(
            locked,
            user=user,
            reason=reason.strip() + (note if alone else ""),
            history_reason=history_reason,
            alone=alone,
        )
    return locked


def publish_shipped(version: PackVersion, *, reason: str) -> PackVersion:
    """Publish a draft loaded from a pack file shipped in the repository, then after_publish.

    The four eyes were the repository's review of the file, so no person publishes it here:
    `published_by` stays empty and `reason` says which file it is and why (the history keeps
    it). Everything else is `publish`'s: refused with PublishRefused when the version is not a
    draft, has no reason, is not a valid pack or fails a scenario; the previous published
    version retires and the after_publish hooks (re-evaluation of open cases) run on commit.
    """
    with transaction.atomic():
        RulePack.objects.select_for_update().get(pk=version.pack_id)
        locked = PackVersion.objects.select_related("pack").get(pk=version.pk)
        problems = not_draft_problems(locked)
        if not problems and not reason.strip():
            problems = ["Give the reason for publishing (it is kept in the history)."]
        problems = problems or content_problems(locked)
        if problems:
            raise PublishRefused(problems)
        _swap(locked, user=None, reason=reason.strip(), history_reason=reason.strip())
    return locked


def _swap(
    locked: PackVersion,
    *,
    user: User | None,
    reason: str,
    history_reason: str,
    alone: bool = False,
) -> None:
    """Retire the published version and publish `locked` (pack row locked by the caller)."""
    for older in PackVersion.objects.filter(
        pack_id=locked.pack_id, status=PackVersion.Status.PUBLISHED
    ):
        older.status = PackVersion.Status.RETIRED
        _history(older, user, f"superseded by v{locked.number}: {reason}")
        older.save(update_fields=["status"])
    locked.status = PackVersion.Status.PUBLISHED
    locked.published_at = timezone.now()
    locked.published_by = user if user is not None and user.is_authenticated else None  # type: ignore[assignment]
    locked.publish_reason = reason
    locked.published_alone = alone
    _history(locked, user, history_reason)
    locked.save(
        update_fields=[
            "status",
            "published_at",
            "published_by",
            "publish_reason",
            "published_alone",
        ]
    )
    for hook in after_publish:
        transaction.on_commit(functools.partial(hook, locked.pk), robust=True)
