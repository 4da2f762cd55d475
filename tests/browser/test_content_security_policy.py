"""The Content Security Policy allows no inline script, and the pages still work under it: the
caseworkers' app (its script filters the outcome choices), the API documentation (Swagger UI)
and the admin, with no violation reported by the browser."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from rules.models import PackVersion
from tests.browser.test_caseworker_story import sign_in
from tests.conftest import sign_in_verified


def violations_on(page: Any) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_swagger_ui_renders_the_api_under_the_policy(
    live_server: Any, page: Any, asylum_pack: PackVersion
) -> None:
    violations = violations_on(page)
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("[id^='operations-'][id$='-evaluate']")
    assert page.locator(".opblock").count() >= 3
    assert violations == []


def test_the_app_and_its_script_work_under_the_policy(
    live_server: Any, page: Any, asylum_pack: PackVersion, carla: User
) -> None:
    violations = violations_on(page)
    sign_in(page, live_server.url, "carla")
    page.click("text=Nouveau dossier")
    page.wait_for_selector("#id_applicant_name")
    assert violations == []


def test_the_admin_works_under_the_policy(
    live_server: Any, page: Any, django_user_model: type[User]
) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw-not-real")
    # Signed in with a verified second factor, then the session handed to the browser.
    client = sign_in_verified(Client(), root)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    violations = violations_on(page)
    page.goto(f"{live_server.url}/admin/cases/case/")
    page.wait_for_selector("#changelist")
    assert violations == []
