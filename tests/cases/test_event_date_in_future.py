"""An event dated after today is saved only once the caseworker confirms the date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from cases.models import Case
from rules.models import PackVersion
from rules.services import today


@pytest.fixture
def signed_in(client: Client, carla: User, asylum_pack: PackVersion) -> Client:
    client.force_login(carla)
    return client


def post(client: Client, case: Case, date: dt.date, **extra: str) -> Any:
    return client.post(
        reverse("event-create", args=[case.pk]),
        {"type": "ofpra_submission", "date": date.isoformat(), "note": "posted", **extra},
    )


def test_a_date_after_today_asks_for_confirmation_and_saves_nothing(
    signed_in: Client, case_a: Case
) -> None:
    tomorrow = today() + dt.timedelta(days=1)
    response = post(signed_in, case_a, tomorrow)
    assert response.status_code == 200
    form = response.context["form"]
    assert [e.code for e in form.errors.as_data()["date"]] == ["date_in_future"]
    page = response.content.decode()
    assert 'name="confirm_date"' in page
    assert f'value="{tomorrow.isoformat()}"' in page
    assert not case_a.events.filter(type="ofpra_submission").exists()


def test_a_confirmed_date_after_today_is_saved(signed_in: Client, case_a: Case) -> None:
    tomorrow = today() + dt.timedelta(days=1)
    response = post(signed_in, case_a, tomorrow, confirm_date="on")
    assert response.status_code == 302
    assert case_a.events.get(type="ofpra_submission").date == tomorrow


def test_a_date_up_to_today_needs_no_confirmation(signed_in: Client, case_a: Case) -> None:
    page = signed_in.get(reverse("event-create", args=[case_a.pk])).content.decode()
    assert 'name="confirm_date"' not in page
    response = post(signed_in, case_a, today())
    assert response.status_code == 302
