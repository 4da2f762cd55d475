"""Recording an event saves it, re-evaluates the case and stores its deadlines, with history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from cases import actions
from cases.models import Case, Deadline, Organisation
from rules.models import PackVersion


@pytest.fixture
def case(asylum_pack: PackVersion, django_user_model: type[User]) -> Case:
    worker = django_user_model.objects.create_user("worker", password="pw")
    org = Organisation.objects.create(name="Cimade Metz")
    return actions.create_case(
        organisation=org,
        user=worker,
        reference="R-1",
        applicant_name="A. Applicant",
        department="88",
        assigned_to=worker,
        procedure=asylum_pack.pack,
    )


def test_recording_an_event_stores_the_deadlines_it_starts(case: Case) -> None:
    actions.record_event(
        case, user=case.assigned_to, type="prefecture_presentation", date=dt.date(2026, 4, 2)
    )
    (deadline,) = case.deadlines.all()
    # Stored cases are evaluated as of today: April 2026 is long past, with no registration.
    assert (deadline.key, deadline.due, deadline.status) == (
        "registration",
        dt.date(2026, 4, 9),
        "missed",
    )
    assert deadline.legal_basis == "CESEDA L521-4"
    assert case.evaluation_for("en")["competent_prefecture"]["department"] == "57"
    # Texts are stored in each of the site's languages.
    assert deadline.text_in("fr", "label") == "Enregistrement par la préfecture"
    assert deadline.text_in("en", "explanation").startswith("3 working days after")
    assert deadline.text_in("fr", "explanation").startswith("3 jours ouvrés à compter du")


def test_correcting_an_event_moves_its_deadline_and_keeps_history(case: Case) -> None:
    event = actions.record_event(
        case, user=case.assigned_to, type="registration", date=dt.date(2026, 4, 1)
    )
    actions.update_event(
        event, user=case.assigned_to, date=dt.date(2026, 4, 3), reason="typo in the date"
    )
    deadline = Deadline.objects.get(case=case, key="ofpra_submission")
    assert deadline.due == dt.date(2026, 4, 11)
    previous = deadline.history.order_by("history_date")
    assert [h.due for h in previous] == [dt.date(2026, 4, 9), dt.date(2026, 4, 11)]
    assert event.history.latest().history_change_reason == "typo in the date"
    assert event.history.latest().history_user == case.assigned_to


def test_deleting_the_trigger_removes_the_deadline(case: Case) -> None:
    event = actions.record_event(
        case, user=case.assigned_to, type="registration", date=dt.date(2026, 4, 1)
    )
    actions.delete_event(event, user=case.assigned_to)
    assert not case.deadlines.exists()


def test_facts_the_rules_refuse_are_not_saved(case: Case) -> None:
    with pytest.raises(actions.CaseRefused) as refused:
        actions.record_event(
            case, user=case.assigned_to, type="ofpra_decision", date=dt.date(2026, 4, 1)
        )
    assert "outcome" in refused.value.errors
    assert not case.events.exists()


def test_a_step_done_late_is_missed_but_no_longer_pending(case: Case) -> None:
    actions.record_event(case, user=case.assigned_to, type="registration", date=dt.date(2026, 4, 1))
    actions.record_event(
        case, user=case.assigned_to, type="ofpra_submission", date=dt.date(2026, 4, 20)
    )
    deadline = Deadline.objects.get(case=case, key="ofpra_submission")
    assert (deadline.status, deadline.completed_on) == ("missed", dt.date(2026, 4, 20))
    assert not deadline.is_pending
