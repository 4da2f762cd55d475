"""Fixtures shared by every test module. Domain personas arrive with the apps that need them.

Two-factor sign-in: superusers and whoever holds rules.publish_packversion (legal staff) reach
the admin only once verified with django-otp. A test that opens the admin as such a person
signs in with `sign_in_verified(client, user)` (or the `otp_client` fixture factory): it
gives the user a confirmed TOTP device and marks the client's session as verified with it,
as typing a valid code on /accounts/two-factor/ does.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from project.celery import app as celery_app
from rules.models import PackVersion
from rules.packstore import load_pack

SHIPPED_PACK = (
    Path(__file__).resolve().parents[1] / "rules" / "packs" / "asylum-reexamination" / "pack.json"
)
SCENARIOS = SHIPPED_PACK.parent / "scenarios"

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@pytest.fixture(autouse=True)
def _forget_process_caches() -> Iterator[None]:
    """The published versions and tokens a process remembers: a rolled-back test's are gone."""
    from rules.authentication import forget_tokens
    from rules.services import forget_published

    forget_published()
    forget_tokens()
    yield
    forget_published()
    forget_tokens()


@pytest.fixture
def user(django_user_model: type[User]) -> User:
    """An ordinary active account with no special permission."""
    return django_user_model.objects.create_user(username="alice", password="not-a-real-secret")


def sign_in_verified(client: Client, user: User) -> Client:
    """Sign `user` in on `client` with a second factor, as after a valid TOTP code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def otp_client(db: None) -> Any:
    """A function making a new client signed in as a user, second factor verified."""
    return lambda user: sign_in_verified(Client(), user)


@pytest.fixture(autouse=True)
def fresh_cache(settings: Any) -> None:
    """Each test starts with an empty cache of its own, and an API rate limit no ordinary test
    reaches (tests/test_api_rate_limits.py sets a low one)."""
    import uuid

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100000/minute"},
    }
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4()}",
        }
    }


@pytest.fixture
def api_client() -> APIClient:
    """A DRF client with no credentials."""
    return APIClient()


@pytest.fixture
def token_client(user: User) -> APIClient:
    """A DRF client authenticated as `user` with an API token, as scripts call the API."""
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Run Celery tasks inline, in the test's process and transaction."""
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def _shipped_pack() -> PackVersion:
    existing = PackVersion.objects.filter(pack__key="asylum-reexamination", number=1).first()
    return existing or load_pack(json.loads(SHIPPED_PACK.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Load the shipped pack once into the test database; each test's changes roll back."""
    with django_db_blocker.unblock():
        _shipped_pack()


@pytest.fixture
def asylum_pack(db: None) -> PackVersion:
    """Version 1 of the shipped asylum-reexamination pack, loaded and published (its first).

    Many tests hold version 1's behaviour; `shipped_pack` gives what `make run` publishes.
    """
    return _shipped_pack()


@pytest.fixture
def shipped_pack(asylum_pack: PackVersion) -> PackVersion:
    """The shipped pack as `make run` leaves it: every shipped version loaded by `loadrulepack`
    (version 1 in the history, the highest published as a shipped file). Open cases created
    before this fixture are re-evaluated only if the test runs the on-commit hooks."""
    errors = io.StringIO()
    call_command("loadrulepack", stdout=io.StringIO(), stderr=errors)
    published = PackVersion.objects.get(pack=asylum_pack.pack, status="published")
    assert published.number > asylum_pack.number, errors.getvalue()
    return published


Amend = Callable[[PackVersion, Callable[[PackVersion], object]], PackVersion]


@pytest.fixture
def amend(django_user_model: type[User]) -> Amend:
    """Change a published pack as legal staff do: a draft copy, changed, published by another.

    `amend(version, change)` calls `change(draft)` and returns the draft, now published.
    """
    from rules import workbench
    from rules.packstore import copy_as_draft

    def amend(version: PackVersion, change: Callable[[PackVersion], object]) -> PackVersion:
        draft = copy_as_draft(version)
        change(draft)
        publisher, _ = django_user_model.objects.get_or_create(
            username="publisher", defaults={"is_superuser": True, "is_staff": True}
        )
        return workbench.publish(draft, user=publisher, reason="a change for a test")

    return amend


@pytest.fixture
def scenarios() -> list[dict[str, object]]:
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(SCENARIOS.glob("*.json"))
    ]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Tests create many accounts; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
