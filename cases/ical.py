"""A member's pending deadlines as an iCalendar feed that Outlook and Google Calendar accept.

Each deadline is an all-day event whose UID names the case and the deadline key, so a calendar
updates the same event when the due date moves. The feed URL is a secret shared with a calendar
service, so events carry the file reference and the step, never the applicant's name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from .access import visible_deadlines
from .dashboard import PENDING, status_text
from .models import Case, Deadline, Membership

PRODID = "-//Delais asile//Caseworkers' calendar//FR"
UID_DOMAIN = "delais-asile"


def feed_deadlines(membership: Membership) -> QuerySet[Deadline]:
    """Pending dated deadlines of the member's cases: their own, or the organisation's for a
    supervisor."""
    deadlines = visible_deadlines(membership.user).filter(
        case__state=Case.State.OPEN,
        status__in=PENDING,
        completed_on__isnull=True,
        due__isnull=False,
    )
    if not membership.is_supervisor:
        deadlines = deadlines.filter(case__assigned_to_id=membership.user_id)
    return deadlines.select_related("case").order_by("due", "id")


def calendar_for(
    deadlines: Iterable[Deadline], *, name: str, case_url: str, today: dt.date
) -> bytes:
    """`case_url` is a format string with {pk}: the absolute URL of a case's page. Each event
    says the deadline's status on `today` (a date passed while the file sat unchanged is missed).
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", timezone.get_default_timezone_name())
    now = timezone.now()
    for deadline in deadlines:
        assert deadline.due is not None
        event = Event()
        event.add("uid", f"case-{deadline.case_id}-{deadline.key}@{UID_DOMAIN}")
        event.add("dtstamp", now)
        # A re-evaluation that changes a row's words alone leaves its updated_at as it was
        # (cases/reevaluation.py): the case's evaluated_at then says when.
        evaluated = deadline.case.evaluated_at
        modified = deadline.updated_at
        event.add("last-modified", max(modified, evaluated) if evaluated else modified)
        event.add("dtstart", deadline.due)
        event.add("dtend", deadline.due + dt.timedelta(days=1))
        status = status_text(deadline.status_on(today))
        event.add("summary", f"{deadline.case.reference} · {deadline.label_text}")
        # The warnings of the case's result that concern this deadline (no personal data).
        warnings = "".join(
            "\n" + _("Warning: %(title)s.") % {"title": w["title"]} + f" {w['message']}"
            for w in deadline.warnings
        )
        event.add(
            "description",
            f"{status}\n{deadline.legal_basis}{warnings}\n{case_url.format(pk=deadline.case_id)}",
        )
        event.add("x-delais-status", deadline.status_on(today))
        event.add("url", case_url.format(pk=deadline.case_id))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()  # type: ignore[no-any-return]
