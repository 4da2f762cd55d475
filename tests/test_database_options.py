"""PostgreSQL runs the app's short queries without JIT compilation (it cost more than it saved)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from project.env import database_config


def test_it_turns_jit_off_for_postgresql_connections_and_keeps_given_options() -> None:
    config = database_config(
        "postgres://u@127.0.0.1:5432/db?options=-c%20statement_timeout%3D5000",
        default_sqlite_path=Path("x.sqlite3"),
        conn_max_age=0,
    )
    assert config["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"
    sqlite = database_config("", default_sqlite_path=Path("x.sqlite3"), conn_max_age=0)
    assert "options" not in sqlite["OPTIONS"]


@pytest.mark.django_db
def test_it_runs_the_apps_queries_without_jit_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
