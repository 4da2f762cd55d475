"""An operator sets up an organisation from the command line: `create_organisation`, then
`add_member` for its caseworkers and supervisors, and legal staff. Bad input exits non-zero
with a message; the password is never an argument."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from cases.models import Membership, Organisation
from cases.roles import LEGAL_STAFF

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str = "") -> str:
    out = io.StringIO()
    original = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out)
    finally:
        sys.stdin = original
    return out.getvalue()


def test_it_creates_an_organisation_and_refuses_a_second_with_the_same_name() -> None:
    assert "Created organisation 'Cimade Metz'" in run("create_organisation", "  Cimade   Metz ")
    assert Organisation.objects.get().name == "Cimade Metz"
    with pytest.raises(CommandError, match="already exists"):
        run("create_organisation", "cimade metz")
    with pytest.raises(CommandError, match="name is empty"):
        run("create_organisation", "   ")


def test_it_adds_a_caseworker_and_a_supervisor_who_can_sign_in_and_see_their_cases(
    client: Client,
) -> None:
    run("create_organisation", "Cimade Metz")
    run(
        "add_member",
        "carla",
        "--organisation",
        "Cimade Metz",
        "--role",
        "caseworker",
        "--email",
        "carla@cimade.example.org",
        "--password-stdin",
        stdin="a-long-Passphrase-2026\n",
    )
    run(
        "add_member",
        "sofia",
        "--organisation",
        "cimade metz",
        "--role",
        "supervisor",
        "--email",
        "sofia@cimade.example.org",
        "--no-password",
    )
    carla = Membership.objects.select_related("user").get(user__username="carla")
    assert (carla.role, carla.organisation.name, carla.user.email) == (
        "caseworker",
        "Cimade Metz",
        "carla@cimade.example.org",
    )
    assert not carla.user.is_staff
    sofia = User.objects.get(username="sofia")
    assert sofia.membership.role == "supervisor"
    assert not sofia.has_usable_password()
    assert client.login(username="carla", password="a-long-Passphrase-2026")
    assert client.get("/").status_code == 200


def test_it_adds_legal_staff_to_the_group_with_admin_access_and_no_organisation() -> None:
    run("add_member", "lea", "--role", "legal-staff", "--no-password")
    lea = User.objects.get(username="lea")
    assert lea.is_staff
    assert not lea.is_superuser
    assert lea.groups.filter(name=LEGAL_STAFF).exists()
    assert not Membership.objects.filter(user=lea).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["carla", "--role", "caseworker", "--email", "c@x.org"], "--organisation is required"),
        (
            ["carla", "--role", "caseworker", "--organisation", "Nowhere", "--email", "c@x.org"],
            "no organisation named 'Nowhere'",
        ),
        (["carla", "--role", "caseworker", "--organisation", "Cimade Metz"], "--email is required"),
        (
            ["carla", "--role", "supervisor", "--organisation", "Cimade Metz", "--email", "nope"],
            "is not an email address",
        ),
        (
            ["lea", "--role", "legal-staff", "--organisation", "Cimade Metz"],
            "legal staff belong to no organisation",
        ),
        (["  ", "--role", "legal-staff"], "the username is empty"),
    ],
)
def test_bad_input_is_refused_with_a_message(args: list[str], message: str) -> None:
    Organisation.objects.create(name="Cimade Metz")
    with pytest.raises(CommandError, match=message):
        run("add_member", *args, "--no-password")
    assert not User.objects.exists()


def test_a_weak_password_is_refused_and_nothing_is_created() -> None:
    Organisation.objects.create(name="Cimade Metz")
    with pytest.raises(CommandError, match="password refused"):
        run(
            "add_member",
            "carla",
            "--organisation",
            "Cimade Metz",
            "--role",
            "caseworker",
            "--email",
            "carla@cimade.example.org",
            "--password-stdin",
            stdin="123\n",
        )
    assert not User.objects.exists()


def test_a_person_cannot_be_moved_to_a_second_organisation_silently() -> None:
    run("create_organisation", "Cimade Metz")
    run("create_organisation", "Forum Réfugiés")
    base = ["--role", "caseworker", "--email", "carla@x.example.org", "--no-password"]
    run("add_member", "carla", "--organisation", "Cimade Metz", *base)
    with pytest.raises(CommandError, match="already a member of another organisation"):
        run("add_member", "carla", "--organisation", "Forum Réfugiés", *base)
    # The same organisation again changes the role.
    run("add_member", "carla", "--organisation", "Cimade Metz", *base[:1], "supervisor", *base[2:])
    assert Membership.objects.get(user__username="carla").role == "supervisor"


def test_the_commands_exit_non_zero_with_the_message_on_stderr(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{tmp_path}/db.sqlite3\n")
    done = subprocess.run(
        [sys.executable, "manage.py", "add_member", "carla", "--role", "caseworker"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "CommandError: --organisation is required for a caseworker" in done.stderr


def test_a_signed_in_account_without_membership_is_told_why_it_sees_nothing(
    client: Client, settings: Any
) -> None:
    User.objects.create_superuser("admin", "admin@example.org", "a-long-Passphrase-2026")
    client.login(username="admin", password="a-long-Passphrase-2026")
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    page = response.content.decode()
    assert "belongs to no organisation" in page
    assert "manage.py add_member" in page
