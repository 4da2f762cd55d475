"""A deadline that may still be met if its limit is extended is pending: alerts count to `due`."""

from __future__ import annotations

from django.utils import translation

from cases.models import Case, Deadline
from notifications.models import Notification
from notifications.planner import plan_cases
from tests.notifications.conftest import DUE, KEY, NOW


def test_a_possibly_open_deadline_keeps_its_alerts_counted_to_the_due_date(
    deadline_case: Case,
) -> None:
    # As an evaluation stores it between a non-working due date and the next working day.
    Deadline.objects.filter(case=deadline_case, key=KEY).update(status="possibly_open")
    counts = plan_cases([deadline_case.pk], now=NOW)
    assert counts.created == 5
    alerts = Notification.objects.filter(case=deadline_case)
    assert {alert.due for alert in alerts} == {DUE}
    assert alerts.filter(kind=Notification.Kind.OVERDUE).count() == 1


def test_a_possibly_open_deadline_is_still_to_do(deadline_case: Case) -> None:
    Deadline.objects.filter(case=deadline_case, key=KEY).update(status="possibly_open")
    deadline = Deadline.objects.get(case=deadline_case, key=KEY)
    assert deadline.is_pending
    with translation.override("en"):
        assert deadline.get_status_display() == "possibly still open"
    with translation.override("fr"):
        assert deadline.get_status_display() == "peut-être encore possible"


def test_a_possibly_met_deadline_gets_no_alerts(deadline_case: Case) -> None:
    Deadline.objects.filter(case=deadline_case, key=KEY).update(
        status="possibly_met", completed_on=DUE
    )
    plan_cases([deadline_case.pk], now=NOW)
    assert not Notification.objects.filter(
        case=deadline_case, status=Notification.Status.PLANNED
    ).exists()
