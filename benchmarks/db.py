"""A throwaway database of a benchmark's own, and Django configured on it.

    with throwaway_database("api") as url:      # postgres://…/asylum_bench_api_1f2e3d4c5b
        configure_django(url)                   # DEBUG off, a fresh secret key
        migrate()                               # migrate + loadrulepack (the shipped pack)

On PostgreSQL (BENCH_DATABASE_URL, else DATABASE_URL, says which server) the database gets a
unique name, asylum_bench_<label>_<random>, is created here and dropped at the end: a name no
one else uses, so dropping it can only remove what this run created. Otherwise a SQLite file
with a unique name under .run/bench/, deleted at the end. BENCH_KEEP_DATABASE=1 keeps it (its
URL is printed) to look at the data afterwards. BENCH_SQLITE_TEMPLATE names a migrated SQLite
file to start from (the smoke test: one migrate for every benchmark).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = Path(os.environ.get("BENCH_OUT_DIR") or ROOT / ".run" / "bench")


def server_url() -> str:
    """The PostgreSQL server to use, or "" for SQLite."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else ""


def _admin(url: str) -> Any:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    return psycopg.connect(
        dbname="postgres",
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        autocommit=True,
    )


@contextmanager
def throwaway_database(label: str) -> Iterator[str]:
    """Create a database with a unique name, yield its URL, drop it at the end."""
    if not re.fullmatch(r"[a-z0-9_]{1,20}", label):
        raise ValueError(f"label {label!r}: lowercase letters, digits and _ only")
    keep = os.environ.get("BENCH_KEEP_DATABASE", "") not in ("", "0", "false")
    base = server_url()
    if base:
        name = f"asylum_bench_{label}_{uuid.uuid4().hex[:10]}"
        with _admin(base) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
        try:
            yield url
        finally:
            _close_django_connections()
            if keep:
                print(f"  kept database {url}", file=sys.stderr)
            else:
                with _admin(base) as admin:
                    # Ours alone (a unique name): FORCE only ends connections this run left.
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUT_DIR / f"{label}-{uuid.uuid4().hex[:10]}.sqlite3"
        template = os.environ.get("BENCH_SQLITE_TEMPLATE", "")
        if template:  # an already migrated file (the smoke test): migrate() has little to do
            shutil.copyfile(template, path)
        try:
            yield f"sqlite:///{path}"
        finally:
            _close_django_connections()
            if keep:
                print(f"  kept database sqlite:///{path}", file=sys.stderr)
            else:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)


def _close_django_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def server_environment(url: str, **extra: str) -> dict[str, str]:
    """The environment a process serving this database needs (DEBUG off, as in production)."""
    env = {
        key: value
        for key, value in os.environ.items()
        # A NAME_FILE would win over NAME.
        if key not in ("DATABASE_URL_FILE", "DJANGO_DEBUG_FILE", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        {
            "DATABASE_URL": url,
            "DJANGO_DEBUG": "false",  # with DEBUG on, Django keeps every query in memory
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or uuid.uuid4().hex * 2,
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "project.settings",
        }
    )
    env.update(extra)
    return env


def configure_django(url: str, **extra: str) -> None:
    """Point this process's Django at the database and set it up (once per process)."""
    env = server_environment(url, **extra)
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()


def migrate() -> None:
    """Create the tables and load the shipped rule pack (published)."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("loadrulepack", stdout=io.StringIO())


def vendor() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"
