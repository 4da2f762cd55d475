"""The API reads the published version and its token without a query per request, and still
sees a publish or an edit made by another process promptly; case writes always read afresh."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rules.models import PackVersion
from rules.packstore import bump_revision
from rules.services import published_version
from tests.notifications.processes import ROOT, database_url

KEY = "asylum-reexamination"
URL = "/api/v1/evaluate"
REQUEST = {
    "procedure": KEY,
    "department": "57",
    "events": [{"type": "registration", "date": "2026-04-08"}],
}

# Another process: remembers the published revision, then says when it sees a new one.
CHILD = """
import sys, time, django
django.setup()
from rules.services import published_version
first = published_version(sys.argv[1], cached=True)[1]
print(first, flush=True)
sys.stdin.readline()
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    seen = published_version(sys.argv[1], cached=True)[1]
    if seen != first:
        print(seen, flush=True)
        break
    time.sleep(0.05)
else:
    print("stale", flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_it_sees_a_revision_changed_in_another_process_within_the_cache_period(
    settings: Any,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (another process shares the database)")
    from tests.conftest import _shipped_pack

    version = _shipped_pack()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "PUBLISHED_CACHE_SECONDS": "1",
    }
    env.pop("DATABASE_URL_FILE", None)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, KEY],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdin is not None
        assert child.stdout.readline().strip() == version.revision
        bump_revision(version.pk)  # an edit in the admin, committed (transactional test)
        changed_at = time.monotonic()
        child.stdin.write("go\n")
        child.stdin.flush()
        new = PackVersion.objects.get(pk=version.pk).revision
        assert child.stdout.readline().strip() == new
        # Within the cache period (1 s) plus the child's polling, not at its next restart.
        assert time.monotonic() - changed_at < 10
    finally:
        child.kill()
        child.wait(10)


def test_the_api_reads_the_published_version_once_per_period_and_writes_read_it_afresh(
    asylum_pack: PackVersion, token_client: APIClient, settings: Any
) -> None:
    settings.PUBLISHED_CACHE_SECONDS = 60
    token_client.post(URL, REQUEST, format="json")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert token_client.post(URL, REQUEST, format="json").status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries]
    # A case write reads the published row again (what it stores names its version).
    with CaptureQueriesContext(connection) as queries:
        assert published_version(KEY) == (asylum_pack.pk, asylum_pack.revision)
    assert len(queries) == 1
    # An edit in this process is seen at once by the API.
    bump_revision(asylum_pack.pk)
    assert published_version(KEY, cached=True) == (
        asylum_pack.pk,
        PackVersion.objects.get(pk=asylum_pack.pk).revision,
    )


def test_a_deleted_token_stops_working_at_once(
    asylum_pack: PackVersion, user: User, settings: Any
) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 60
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.post(URL, REQUEST, format="json").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.post(URL, REQUEST, format="json").status_code == 200
    assert not [q for q in queries if "authtoken" in q["sql"]]
    Token.objects.filter(user=user).delete()  # as issue_api_token --rotate does
    assert client.post(URL, REQUEST, format="json").status_code == 401
