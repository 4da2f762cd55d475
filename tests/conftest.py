"""Fixtures shared by every test module. Domain personas arrive with the apps that need them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
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
    """The shipped asylum-reexamination pack, loaded and published as `make run` loads it."""
    return _shipped_pack()


@pytest.fixture
def scenarios() -> list[dict[str, object]]:
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(SCENARIOS.glob("*.json"))
    ]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Tests create many accounts; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
