"""Opening a case, recording its timeline and correcting it through the pages, as a caseworker
does; and forms that refuse bad input with a reason, keeping everything typed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from cases import actions
from cases.models import Case, Deadline
from rules.models import EventType, PackVersion

NEW_CASE = {
    "applicant_name": "Tigran Petrosyan",
    "reference": "2026-041",
    "procedure": "",  # filled in by the fixture
    "department": "88",
    "previous_reexaminations": "0",
    "preferred_language": "en",
    "phone": "06 12 34 56 78",
    "sms_consent": "on",
    "email": "",
    "assigned_to": "",
}


@pytest.fixture
def signed_in(client: Client, carla: User, asylum_pack: PackVersion) -> Client:
    client.force_login(carla)
    return client


def new_case_data(pack: PackVersion, user: User, **changes: str) -> dict[str, str]:
    return {**NEW_CASE, "procedure": str(pack.pack.pk), "assigned_to": str(user.pk), **changes}


def error_codes(response: Any, field: str) -> list[str]:
    return [e.code for e in response.context["form"].errors.as_data().get(field, [])]


def record(
    client: Client, case: Case, type: str, date: str, outcome: str = "", note: str = ""
) -> Any:
    return client.post(
        reverse("event-create", args=[case.pk]),
        {"type": type, "date": date, "outcome": outcome, "note": note},
    )


def test_opening_a_case_stores_it_with_a_normalised_phone_and_department(
    signed_in: Client, asylum_pack: PackVersion, carla: User
) -> None:
    response = signed_in.post(
        reverse("case-create"), new_case_data(asylum_pack, carla, department="2a")
    )
    case = Case.objects.get(reference="2026-041")
    assert response.status_code == 302
    assert response["Location"] == reverse("case-detail", args=[case.pk])
    assert (case.phone, case.department, case.sms_consent) == ("+33612345678", "2A", True)
    assert case.organisation == carla.membership.organisation
    assert case.history.earliest().history_user == carla


def test_recording_a_timeline_shows_deadlines_explanations_and_outcomes(
    signed_in: Client, asylum_pack: PackVersion, carla: User
) -> None:
    signed_in.post(reverse("case-create"), new_case_data(asylum_pack, carla, department="54"))
    case = Case.objects.get(reference="2026-041")
    for event_type, day in [
        ("final_rejection", "2025-11-03"),
        ("prefecture_presentation", "2026-04-02"),
        ("registration", "2026-04-08"),
    ]:
        response = record(signed_in, case, event_type, day)
        assert response.status_code == 302, response.context["form"].errors
    signed_in.post(
        reverse("element-create", args=[case.pk]),
        {"date": "2026-01-10", "known_on": "2026-01-12", "description": "warrant"},
    )
    page = signed_in.get(reverse("case-detail", args=[case.pk])).content.decode()
    page = page.replace("&#x27;", "'")
    registration = Deadline.objects.get(case=case, key="registration")
    # 54 registers in Metz, where Good Friday and Easter Monday are holidays.
    assert (registration.due, registration.status) == (dt.date(2026, 4, 9), "met")
    submission = Deadline.objects.get(case=case, key="ofpra_submission")
    for deadline in (registration, submission):
        assert deadline.explanation in page
        assert deadline.legal_basis in page
        assert f'datetime="{deadline.due:%Y-%m-%d}"' in page
    assert "Préfecture de la Moselle (Metz)" in page
    # The pack's texts in the reader's language (French by default), from its translations.
    assert "Vérification préalable de la recevabilité" in page
    assert "Remplit les conditions" in page
    assert "Droit au maintien sur le territoire français" in page
    assert "Jusqu'à la décision de l'OFPRA" in page
    assert "3 jours ouvrés à compter du 2 avril 2026" in page
    assert "warrant" in page


def test_event_choices_come_from_the_published_packs_records(
    signed_in: Client, case_a: Case, asylum_pack: PackVersion
) -> None:
    EventType.objects.filter(pack_version=asylum_pack, code="registration").update(
        label="Enregistrement en GUDA"
    )
    page = signed_in.get(reverse("event-create", args=[case_a.pk])).content.decode()
    assert '<option value="registration">Enregistrement en GUDA</option>' in page
    assert 'data-outcomes="admissible inadmissible"' in page


def test_correcting_an_event_moves_its_deadline_and_keeps_who_did_it(
    signed_in: Client, case_a: Case, carla: User
) -> None:
    event = case_a.events.get(type="registration")
    response = signed_in.post(
        reverse("event-edit", args=[case_a.pk, event.pk]),
        {"type": "registration", "date": "2026-04-03", "note": "typo"},
    )
    assert response.status_code == 302
    assert Deadline.objects.get(case=case_a, key="ofpra_submission").due == dt.date(2026, 4, 11)
    latest = event.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (carla, "event corrected")
    page = signed_in.get(reverse("case-detail", args=[case_a.pk])).content.decode()
    assert "typo" in page


def test_deleting_an_event_asks_first_then_removes_its_deadlines(
    signed_in: Client, case_a: Case
) -> None:
    event = case_a.events.get(type="registration")
    url = reverse("event-delete", args=[case_a.pk, event.pk])
    assert signed_in.get(url).status_code == 200
    assert case_a.events.exists()
    assert signed_in.post(url).status_code == 302
    assert not case_a.events.exists()
    assert not case_a.deadlines.exists()


def test_an_impossible_date_is_refused_and_what_was_typed_is_kept(
    signed_in: Client, case_a: Case
) -> None:
    response = record(
        signed_in, case_a, "prefecture_presentation", "2026-02-30", note="came with a friend"
    )
    assert response.status_code == 200
    assert error_codes(response, "date") == ["invalid"]
    page = response.content.decode()
    assert 'value="2026-02-30"' in page
    assert "came with a friend" in page
    assert '<option value="prefecture_presentation" selected>' in page
    assert case_a.events.count() == 1


@pytest.mark.parametrize("date", ["1949-12-31", "2091-01-01", "2126-03-02", "2201-01-01"])
def test_dates_outside_the_accepted_years_are_refused(
    signed_in: Client, case_a: Case, date: str
) -> None:
    # 2126 typed for 2026: a form error, not a server error.
    response = record(signed_in, case_a, "prefecture_presentation", date)
    assert error_codes(response, "date") == ["year_out_of_range"]


def test_a_decision_without_its_outcome_is_refused_with_the_choices(
    signed_in: Client, case_a: Case
) -> None:
    response = record(signed_in, case_a, "ofpra_decision", "2026-05-20", note="by post")
    assert response.status_code == 200
    assert error_codes(response, "outcome") == ["outcome_missing"]
    page = response.content.decode()
    assert "protection accordée" in page  # the pack's French for protection_granted
    assert "rejected" in page
    assert 'value="2026-05-20"' in page
    assert "by post" in page


def test_an_outcome_on_an_event_that_has_none_is_refused(signed_in: Client, case_a: Case) -> None:
    response = record(signed_in, case_a, "registration", "2026-04-03", outcome="rejected")
    assert error_codes(response, "outcome") == ["outcome_not_expected"]


def test_an_unknown_event_type_is_refused(signed_in: Client, case_a: Case) -> None:
    response = record(signed_in, case_a, "made_up", "2026-04-03")
    assert error_codes(response, "type") == ["invalid_choice"]


def test_a_phone_number_that_is_not_one_is_refused_and_the_form_is_kept(
    signed_in: Client, asylum_pack: PackVersion, carla: User
) -> None:
    response = signed_in.post(
        reverse("case-create"), new_case_data(asylum_pack, carla, phone="06 12 34")
    )
    assert response.status_code == 200
    assert error_codes(response, "phone") == ["invalid_phone"]
    page = response.content.decode()
    assert 'value="Tigran Petrosyan"' in page
    assert 'value="06 12 34"' in page
    assert not Case.objects.filter(reference="2026-041").exists()


def test_an_international_phone_number_is_stored_in_e164(
    signed_in: Client, asylum_pack: PackVersion, carla: User
) -> None:
    signed_in.post(
        reverse("case-create"), new_case_data(asylum_pack, carla, phone="+44 7911 123456")
    )
    assert Case.objects.get(reference="2026-041").phone == "+447911123456"


@pytest.mark.parametrize("department", ["99", "2C", "975", "x"])
def test_a_department_the_procedure_does_not_know_is_refused(
    signed_in: Client, asylum_pack: PackVersion, carla: User, department: str
) -> None:
    response = signed_in.post(
        reverse("case-create"), new_case_data(asylum_pack, carla, department=department)
    )
    assert error_codes(response, "department") == ["unknown_department"]


def test_sms_reminders_need_a_phone_number(
    signed_in: Client, asylum_pack: PackVersion, carla: User
) -> None:
    response = signed_in.post(reverse("case-create"), new_case_data(asylum_pack, carla, phone=""))
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]


def test_a_case_can_only_be_assigned_to_a_member_of_the_organisation(
    signed_in: Client, asylum_pack: PackVersion, bruno: User, carla: User
) -> None:
    response = signed_in.post(
        reverse("case-create"), new_case_data(asylum_pack, carla, assigned_to=str(bruno.pk))
    )
    assert error_codes(response, "assigned_to") == ["invalid_choice"]
    page = signed_in.get(reverse("case-create")).content.decode()
    assert "Carla Dumas" in page
    assert "Bruno Keller" not in page


def test_a_reference_already_used_in_the_organisation_is_refused(
    signed_in: Client, asylum_pack: PackVersion, carla: User, case_a: Case
) -> None:
    response = signed_in.post(
        reverse("case-create"), new_case_data(asylum_pack, carla, reference="A-001")
    )
    assert error_codes(response, "reference") == ["reference_taken"]


def test_a_new_element_learned_of_before_it_arose_is_refused(
    signed_in: Client, case_a: Case
) -> None:
    response = signed_in.post(
        reverse("element-create", args=[case_a.pk]),
        {"date": "2026-01-10", "known_on": "2026-01-09", "description": "medical report"},
    )
    assert response.status_code == 200
    assert error_codes(response, "known_on") == ["known_before_arose"]
    assert "medical report" in response.content.decode()
    assert not case_a.new_elements.exists()


def test_events_out_of_order_that_the_rules_refuse_are_shown_and_not_saved(
    signed_in: Client, case_a: Case
) -> None:
    # The pack says registration cannot precede the presentation at the prefecture: case_a's
    # registration of 1 April 2026 makes a presentation on 5 April impossible.
    response = record(
        signed_in, case_a, "prefecture_presentation", "2026-04-05", note="second visit"
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.non_field_errors()
    assert form.errors["date"]
    page = response.content.decode()
    assert 'value="2026-04-05"' in page
    assert "second visit" in page
    assert case_a.events.count() == 1


def test_a_refusal_the_form_cannot_place_is_shown_above_the_form(
    signed_in: Client, case_a: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise actions.CaseRefused({"events": ["at most 500 events"]})

    monkeypatch.setattr(actions, "record_event", refuse)
    response = record(signed_in, case_a, "prefecture_presentation", "2026-03-30")
    assert response.status_code == 200
    assert "at most 500 events" in response.context["form"].non_field_errors()
    assert "at most 500 events" in response.content.decode()


def test_editing_a_case_recomputes_its_deadlines(
    signed_in: Client, case_a: Case, carla: User, asylum_pack: PackVersion
) -> None:
    data = new_case_data(
        asylum_pack,
        carla,
        reference="A-001",
        applicant_name="Amina Diallo",
        department="67",
        state="open",
    )
    response = signed_in.post(reverse("case-edit", args=[case_a.pk]), data)
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.department == "67"
    assert case_a.evaluation_for("fr")["competent_prefecture"]["department"] == "67"
    assert case_a.history.latest().history_user == carla


def test_a_case_page_lists_who_changed_what(signed_in: Client, case_a: Case) -> None:
    page = signed_in.get(reverse("case-detail", args=[case_a.pk])).content.decode()
    assert "Carla Dumas" in page
    assert "Enregistrement de la demande (1 avr. 2026)" in page
