"""What an auditor checks: deploy settings, login throttling, a CSP without inline scripts,
and two-factor sign-in to the admin for whoever can publish rules."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.roles import LEGAL_STAFF
from tests.conftest import sign_in_verified

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "a-long-enough-password"


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "delais.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- login throttling ---------------------------------------------------------------------


@pytest.fixture
def member(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("claire", password=PASSWORD)


def sign_in(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def test_it_locks_out_after_repeated_failures_and_says_so(
    client: Client, member: User, settings: Any
) -> None:
    client.cookies["django_language"] = "en"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "claire", "wrong").status_code == 200
    locked = sign_in(client, "claire", "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode("utf-8")
    # Even the right password is refused while locked out.
    assert sign_in(client, "claire", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # In French too, the site's first language.
    client.cookies["django_language"] = "fr"
    assert "Trop d\u2019échecs de connexion" in sign_in(client, "claire", "wrong").content.decode()


def test_a_locked_out_unknown_name_looks_exactly_like_a_locked_out_real_one(
    member: User, settings: Any
) -> None:
    answers = {}
    for name in ("claire", "nobody-by-that-name"):
        client = Client()
        statuses = [sign_in(client, name, "wrong").status_code for _ in range(6)]
        page = sign_in(client, name, "wrong").content
        # Each page masks its CSRF token afresh: compare the rest.
        answers[name] = (statuses, re.sub(rb'csrfmiddlewaretoken" value="[^"]*"', b"", page))
    assert answers["claire"][0] == answers["nobody-by-that-name"][0]
    assert answers["claire"][1] == answers["nobody-by-that-name"][1]


def test_a_success_before_the_limit_resets_the_count(client: Client, member: User) -> None:
    for _ in range(3):
        sign_in(client, "claire", "wrong")
    assert sign_in(client, "claire", PASSWORD).status_code == 302
    client.logout()
    for _ in range(3):
        assert sign_in(client, "claire", "wrong").status_code == 200


# --- content security policy --------------------------------------------------------------


def test_every_page_forbids_inline_scripts(client: Client, db: None) -> None:
    for url in ("/accounts/login/", "/api/docs/", "/admin/login/"):
        policy = client.get(url)["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", policy)
        assert script_src is not None, url
        assert script_src.group(1) == "'self'", url
        assert "frame-ancestors 'none'" in policy


# --- two-factor authentication for publishers ----------------------------------------------


@pytest.fixture
def publisher(django_user_model: type[User]) -> User:
    user = django_user_model.objects.create_user("lea", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=LEGAL_STAFF))
    return user


def test_the_legal_staff_role_holds_the_publish_permission(publisher: User) -> None:
    permission = Permission.objects.get(codename="publish_packversion")
    assert permission.content_type.app_label == "rules"
    assert permission.content_type.model == "packversion"
    assert publisher.has_perm("rules.publish_packversion")


def test_a_publisher_without_a_device_is_sent_to_set_one_up(
    client: Client, publisher: User
) -> None:
    client.force_login(publisher)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor"))
    page = client.get(response["Location"]).content.decode()
    assert "data:image/svg+xml" in page  # the QR code
    device = TOTPDevice.objects.get(user=publisher)
    assert not device.confirmed
    secret = re.search(r'<code class="otp-secret">([A-Z2-7=]+)</code>', page)
    assert secret is not None


def test_a_confirmed_code_opens_the_admin_and_a_wrong_one_does_not(
    client: Client, publisher: User
) -> None:
    client.force_login(publisher)
    client.get(reverse("two-factor"))
    device = TOTPDevice.objects.get(user=publisher)
    wrong = client.post(reverse("two-factor"), {"code": "000000", "next": "/admin/"})
    assert wrong.status_code == 200
    assert client.get("/admin/").status_code == 302
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    code = f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"
    confirmed = client.post(reverse("two-factor"), {"code": code, "next": "/admin/"})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


def test_a_superuser_needs_the_second_factor_too(
    client: Client, django_user_model: type[User]
) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(root)
    assert client.get("/admin/").status_code == 302
    assert sign_in_verified(client, root).get("/admin/").status_code == 200


def test_staff_who_cannot_publish_reach_the_admin_without_a_code(
    client: Client, django_user_model: type[User]
) -> None:
    staff = django_user_model.objects.create_user("sam", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
