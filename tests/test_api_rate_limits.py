"""Each API token has its own request budget; past it, a 429 with a JSON error and Retry-After."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def three_per_minute(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/minute"},
    }


def client_for(name: str) -> APIClient:
    user = User.objects.create_user(name, password="not-a-real-secret")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.mark.usefixtures("asylum_pack", "three_per_minute")
def test_it_answers_429_with_a_json_error_past_the_token_budget() -> None:
    client = client_for("script")
    assert [client.get("/api/v1/packs").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/packs")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    [error] = refused.json()["errors"]
    assert error["field"] == ""
    assert error["message"].startswith("rate limit exceeded for this API token; retry in")


@pytest.mark.usefixtures("asylum_pack", "three_per_minute")
def test_each_token_has_its_own_budget() -> None:
    first, second = client_for("first"), client_for("second")
    for _ in range(3):
        first.get("/api/v1/packs")
    assert first.get("/api/v1/packs").status_code == 429
    assert second.get("/api/v1/packs").status_code == 200


def test_the_default_rate_is_the_documented_one() -> None:
    # Tests raise it (tests/conftest.py); production reads API_RATE_LIMIT.
    from project import settings as project_settings

    assert project_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {"token": "120/minute"}
    assert django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "project.throttling.TokenRateThrottle"
    ]


def test_the_cache_is_redis_when_redis_url_is_set(tmp_path: Any) -> None:
    """Production: every gunicorn worker counts in the same Redis, so a limit is a limit."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = "import django; django.setup(); from django.conf import settings; " + (
        "print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'])"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "REDIS_URL": "redis://cache.example:6379/3",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://cache.example:6379/3",
    ]


@pytest.mark.usefixtures("asylum_pack", "three_per_minute")
def test_the_count_survives_a_new_connection_to_a_shared_redis(settings: Any) -> None:
    """What another web process would see: a fresh cache connection, the same count."""
    import os
    import uuid

    from django.core.cache import caches

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("needs REDIS_URL (the PostgreSQL and Redis run sets it)")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{uuid.uuid4()}",
        }
    }
    client = client_for("shared")
    for _ in range(3):
        assert client.get("/api/v1/packs").status_code == 200
    caches.close_all()
    del caches["default"]
    assert client.get("/api/v1/packs").status_code == 429


# --- with Redis, as in production: one atomic round trip per request -----------------------


class CountingConnection(redis.Connection):
    """A real connection to Redis that counts what it sends: one send is one round trip."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


@pytest.fixture
def redis_cache(settings: Any) -> Iterator[str]:
    """The shared Redis (REDIS_URL) as the cache, under a key prefix of this test's own,
    removed afterwards."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("needs REDIS_URL (the PostgreSQL and Redis run sets it)")
    prefix = f"test-{uuid.uuid4()}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"connection_class": CountingConnection},
        }
    }
    yield prefix
    server = redis.Redis.from_url(redis_url)
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)
    server.close()


@pytest.mark.usefixtures("asylum_pack", "three_per_minute", "redis_cache")
def test_with_redis_it_answers_429_with_retry_after_the_oldest_request_leaves_the_minute() -> None:
    client = client_for("script")
    assert [client.get("/api/v1/packs").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/packs")
    assert refused.status_code == 429
    # The first of the three requests leaves the one-minute window within the minute.
    assert 50 < int(refused["Retry-After"]) <= 60
    [error] = refused.json()["errors"]
    assert error["message"].startswith("rate limit exceeded for this API token; retry in")
    assert client.get("/api/v1/packs").status_code == 429  # a refusal is not counted, still 429


@pytest.mark.usefixtures("asylum_pack", "redis_cache")
def test_with_redis_the_window_slides(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "2/second"},
    }
    client = client_for("script")
    assert [client.get("/api/v1/packs").status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(1.1)
    assert [client.get("/api/v1/packs").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.usefixtures("asylum_pack", "three_per_minute", "redis_cache")
def test_with_redis_each_token_has_its_own_budget() -> None:
    first, second = client_for("first"), client_for("second")
    for _ in range(3):
        first.get("/api/v1/packs")
    assert first.get("/api/v1/packs").status_code == 429
    assert second.get("/api/v1/packs").status_code == 200


@pytest.mark.usefixtures("asylum_pack", "redis_cache")
def test_an_evaluation_costs_one_redis_round_trip(token_client: APIClient) -> None:
    example = ROOT / "rules" / "packs" / "asylum-reexamination" / "api-example.json"
    body = example.read_text(encoding="utf-8")
    token_client.post("/api/v1/evaluate", body, content_type="application/json")  # loads the script
    before = CountingConnection.sent
    for _ in range(5):
        answer = token_client.post("/api/v1/evaluate", body, content_type="application/json")
        assert answer.status_code == 200
    assert CountingConnection.sent - before == 5


@pytest.mark.usefixtures("redis_cache")
def test_web_processes_counting_at_once_never_let_more_than_the_budget_through(
    settings: Any,
) -> None:
    """Eight workers at once, each with its own connection to Redis (Django gives each thread
    its own cache client, as each process has one): together they get exactly the budget."""
    from types import SimpleNamespace

    from project.throttling import TokenRateThrottle

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100/minute"},
    }
    request = SimpleNamespace(auth=SimpleNamespace(key="a-token-shared-by-eight-workers"))
    start = threading.Barrier(8)
    allowed = [0] * 8

    def worker(index: int) -> None:
        start.wait()
        for _ in range(40):
            if TokenRateThrottle().allow_request(request, None):  # type: ignore[arg-type]
                allowed[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 100
