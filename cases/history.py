"""Who changed what on a case: its own history and its events' and new elements', newest first.

The change reasons are the ones cases/actions.py records; they are marked for translation here so
that the page shows them in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from . import actions
from .models import Case, CaseEvent, Deadline, NewElement

REASONS = [
    gettext_noop("case opened"),
    gettext_noop("case updated"),
    gettext_noop("event recorded"),
    gettext_noop("event corrected"),
    gettext_noop("event deleted"),
    gettext_noop("new element recorded"),
    gettext_noop("new element corrected"),
    gettext_noop("new element deleted"),
    gettext_noop("changed in the admin"),
    gettext_noop("calendar link renewed"),
    gettext_noop("demo data"),
]


SHOWN = 15
# Case fields a person changes; other saves of a case (a re-evaluation) are not shown.
CASE_FIELDS = tuple(
    f"{name}_id" if name in ("assigned_to", "procedure") else name for name in actions.CASE_FIELDS
)
ACTIONS = {"+": _("added"), "~": _("changed"), "-": _("deleted")}


@dataclass(frozen=True)
class Change:
    when: datetime
    who: Any
    action: Any
    subject: str
    reason: str


def _subject(kind: str, record: Any, event_labels: dict[str, str]) -> str:
    if kind == "event":
        label = event_labels.get(record.type, record.type)
        return f"{label} ({date_format(record.date, 'SHORT_DATE_FORMAT')})"
    if kind == "deadline":
        due = date_format(record.due, "SHORT_DATE_FORMAT") if record.due else "—"
        return f"{record.label} ({due})"
    if kind == "element":
        day: date = record.date
        return f"{_('New element')} ({date_format(day, 'SHORT_DATE_FORMAT')})"
    return str(_("File"))


def _case_records(case: Case, limit: int) -> list[Any]:
    """The case's own history records that changed something a person typed."""
    records = list(
        Case.history.filter(id=case.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit * 20]
    )
    shown = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        if older is None or any(getattr(newer, f) != getattr(older, f) for f in CASE_FIELDS):
            shown.append(newer)
    return shown[:limit]


def recent_changes(case: Case, event_labels: dict[str, str], limit: int = SHOWN) -> list[Change]:
    """The latest changes to a case, its facts, and its deadlines moved by a publication (four
    queries, whatever the case's size)."""
    sources: list[tuple[str, Any]] = [
        ("case", _case_records(case, limit)),
        (
            "event",
            CaseEvent.history.filter(case_id=case.pk)
            .select_related("history_user")
            .order_by("-history_date")[:limit],
        ),
        (
            "element",
            NewElement.history.filter(case_id=case.pk)
            .select_related("history_user")
            .order_by("-history_date")[:limit],
        ),
        # Deadlines moved by a new version of the rules (cases/reevaluation.py).
        (
            "deadline",
            Deadline.history.filter(
                case_id=case.pk, history_change_reason__startswith="rule pack v"
            )
            .select_related("history_user")
            .order_by("-history_date")[:limit],
        ),
    ]
    changes = []
    for kind, records in sources:
        for record in records:
            changes.append(
                Change(
                    when=record.history_date,
                    who=record.history_user,
                    action=ACTIONS.get(record.history_type, record.history_type),
                    subject=_subject(kind, record, event_labels),
                    reason=record.history_change_reason or "",
                )
            )
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes[:limit]
