"""The story we check the app with, in a real browser: sign in, open a case, record a real
timeline, read the deadlines and why, switch language, and see nothing as another organisation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from cases.models import Case, Deadline, Organisation
from rules.models import PackVersion
from rules.services import today
from tests.cases.personas import PASSWORD, make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMELINE = [
    ("prefecture_presentation", "2026-03-02"),
    ("registration", "2026-03-04"),
    ("ofpra_submission", "2026-03-10"),
    ("decision_made_available", "2026-05-04"),
    ("legal_aid_requested", "2026-05-22"),
]


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")


def sign_out(page: Any) -> None:
    page.click("form.logout button")
    page.wait_for_url("**/accounts/login/")


def record_event(page: Any, event_type: str, day: str) -> None:
    form = page.locator("form[action$='/events/new/']")
    if not form.is_visible():
        page.click("details.add-form:has(form[action$='/events/new/']) summary")
    form.locator("select[name=type]").select_option(event_type)
    form.locator("input[name=date]").fill(day)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".message-success")


def some_deadlines(org: Organisation, user: User, pack: PackVersion) -> None:
    """A few other files, so that the dashboard shows every kind of urgency."""
    day = today()
    people = [
        ("Olga Ivanova", 9, "54"),
        ("Tariq Aziz", 8, "69"),
        ("Wen Li", 5, "75"),
        ("Lena Berg", 0, "2A"),
    ]
    for i, (name, days_ago, department) in enumerate(people):
        make_case(
            org,
            user,
            pack,
            reference=f"2026-00{i + 1}",
            applicant_name=name,
            department=department,
            events=[("registration", day - dt.timedelta(days=days_ago))],
        )
    make_case(
        org,
        user,
        pack,
        reference="2026-009",
        applicant_name="Sami Okafor",
        events=[
            ("decision_notified", day - dt.timedelta(days=10)),
            ("legal_aid_requested", day - dt.timedelta(days=5)),
        ],
    )


def test_a_caseworker_records_a_timeline_and_another_organisation_sees_nothing(
    live_server: Any,
    page: Any,
    screenshot: Any,
    asylum_pack: PackVersion,
    carla: User,
    bruno: User,
    org_a: Organisation,
) -> None:
    base = live_server.url
    some_deadlines(org_a, carla, asylum_pack)

    sign_in(page, base, "carla")
    assert page.locator("h1").inner_text() == "Mes échéances"

    page.click("text=Nouveau dossier")
    page.fill("#id_applicant_name", "Amina Diallo")
    page.fill("#id_reference", "2026-041")
    page.fill("#id_department", "54")
    page.fill("#id_phone", "06 12 34 56 78")
    page.check("#id_sms_consent")
    page.click("text=Ouvrir le dossier")
    page.wait_for_selector(".message-success")
    assert page.locator("h1").inner_text() == "Amina Diallo"
    case = Case.objects.get(reference="2026-041")
    assert case.phone == "+33612345678"

    for event_type, day in TIMELINE:
        record_event(page, event_type, day)
    assert page.locator(".timeline li").count() == len(TIMELINE)

    deadlines = {d.key: d for d in Deadline.objects.filter(case=case)}
    assert {
        "registration",
        "ofpra_submission",
        "ofpra_admissibility",
        "decision_consultation",
        "legal_aid_request",
        "cnda_appeal",
    } <= set(deadlines)
    table = page.locator("table.deadlines").inner_text()
    for deadline in deadlines.values():
        assert deadline.label in table
        assert deadline.explanation in table
        assert deadline.legal_basis in table
    # Presented Monday 2 March 2026 in 54 (Metz): 3 working days, due Thursday 5 March.
    assert deadlines["registration"].due == dt.date(2026, 3, 5)
    assert "5 mars 2026" in table
    assert deadlines["cnda_appeal"].status == "suspended"
    assert "Suspendu" in table
    side = page.locator("aside").inner_text()
    assert "Préfecture de la Moselle (Metz)" in side
    # The pack's own texts in French, from its translations.
    assert "Vérification préalable de la recevabilité" in side
    assert "3 jours ouvrés à compter du 2 mars 2026" in table

    screenshot("case", 1280, 800)
    screenshot("case", 390, 844)
    page.set_viewport_size({"width": 1280, "height": 800})

    case_url = page.url
    page.click("form.language-switch button[value=en]")
    page.wait_for_load_state()
    assert page.url == case_url
    assert page.locator("#deadlines-heading").inner_text() == "Deadlines"
    english = page.locator("table.deadlines").inner_text()
    assert "Thu 5 Mar 2026" in english
    # The deadline texts follow the switch too.
    assert "Registration by the prefecture" in english
    assert "3 working days after presentation at the prefecture on 2 March 2026" in english
    assert "Admissibility pre-check" in page.locator("aside").inner_text()
    page.click("form.language-switch button[value=fr]")
    page.wait_for_load_state()
    assert page.url == case_url
    assert page.locator("#deadlines-heading").inner_text() == "Échéances"

    page.goto(base + "/")
    assert "Amina Diallo" in page.locator("main").inner_text()
    screenshot("dashboard", 1280, 800)
    screenshot("dashboard", 390, 844)
    page.set_viewport_size({"width": 1280, "height": 800})

    sign_out(page)
    sign_in(page, base, "bruno")
    main = page.locator("main").inner_text()
    assert "Amina Diallo" not in main
    assert "Olga Ivanova" not in main
    response = page.goto(case_url)
    assert response is not None
    assert response.status == 404
    assert "Amina Diallo" not in page.content()
    page.goto(base + "/cases/?state=all&caseworker=all")
    assert "Amina Diallo" not in page.locator("main").inner_text()


def test_the_login_form_works_with_the_keyboard_alone(
    live_server: Any, page: Any, carla: User
) -> None:
    page.goto(live_server.url + "/accounts/login/")
    # The username field has autofocus; otherwise it must be reachable with Tab.
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "id_username":
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("the username field cannot be reached with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.type("carla")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    assert page.locator("h1").inner_text() == "Mes échéances"

    # On every page the first Tab reaches the skip link, shown on focus, which leads to main.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None
    assert box["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
