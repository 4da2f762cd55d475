"""Read settings from the environment.

Every helper also accepts ``NAME_FILE``: the path of a file holding the value (Docker and
Kubernetes secrets), so secrets need not sit in the process environment. Each helper takes an
optional ``environ`` mapping so tests can run it against a made-up environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines of a .env file, as scripts/run.sh and docker compose read them.

    Blank lines and lines starting with # are skipped; one pair of surrounding quotes is
    dropped; nothing else is interpreted (no ${...} expansion). Any other line is an error that
    names the file and the line, rather than a setting silently ignored.
    """
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ImproperlyConfigured(f"cannot read {path}: {error}") from error
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise ImproperlyConfigured(f"{path}, line {number}: not NAME=value")
        name, value = match.group(1), match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def load_env_file(path: Path, *, environ: MutableMapping[str, str] | None = None) -> bool:
    """Put the file's variables in the environment; variables already set win. Returns whether
    the file exists. Called by project/settings.py, so manage.py, Celery and gunicorn all read
    the same .env as scripts/run.sh."""
    environ = os.environ if environ is None else environ
    if not path.is_file():
        return False
    for name, value in read_env_file(path).items():
        environ.setdefault(name, value)
    return True


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    """Return the contents of the file named by NAME_FILE, else NAME, else the default."""
    environ = os.environ if environ is None else environ
    file_path = environ.get(f"{name}_FILE")
    if file_path:
        try:
            # Secret files usually end with a newline that is not part of the secret.
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(
                f"{name}_FILE: cannot read {file_path!r}: {error}"
            ) from error
    # An empty value (NAME= in a .env file) means "not set".
    return environ.get(name) or default


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    value = env_str(name, environ=environ).strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int, *, environ: Mapping[str, str] | None = None) -> int:
    value = env_str(name, environ=environ).strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_list(
    name: str, default: list[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Split a comma-separated NAME into a list, dropping blanks."""
    value = env_str(name, environ=environ)
    if not value.strip():
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def database_config(url: str, *, default_sqlite_path: Path, conn_max_age: int) -> dict[str, Any]:
    """Turn DATABASE_URL (or, when empty, the default SQLite file) into a DATABASES entry."""
    config: dict[str, Any] = dict(
        dj_database_url.parse(
            url or f"sqlite:///{default_sqlite_path}",
            conn_max_age=conn_max_age,
            conn_health_checks=True,
        )
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # `make run` has the web server, a worker and beat writing to one file: WAL lets readers
        # go on during a write, IMMEDIATE takes the write lock up front so that two writers wait
        # for each other (up to `timeout` seconds) instead of failing with "database is locked".
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            **config.get("OPTIONS", {}),
        }
    if config["ENGINE"] in (
        "django.db.backends.postgresql",
        "django.db.backends.postgresql_psycopg2",
    ):
        # The app's queries are short: PostgreSQL's JIT compiling them cost ~400 ms on the case
        # list with 100,000 cases (issue 10), far more than it saves.
        options = dict(config.get("OPTIONS", {}))
        if "jit" not in options.get("options", ""):
            options["options"] = (options.get("options", "") + " -c jit=off").strip()
        config["OPTIONS"] = options
    return config


# Task kinds a deployment may give workers of their own (README "Scaling out"): the setting
# naming the queue, and the tasks of that kind.
TASK_KINDS: dict[str, tuple[str, ...]] = {
    "CELERY_QUEUE_SENDING": (
        "notifications.send_notification",
        "notifications.send_recompute_notice",
    ),
    "CELERY_QUEUE_PLANNING": (
        "notifications.plan_due_alerts",
        "notifications.sweep_alert_plans",
        "notifications.plan_case_alerts",
        "notifications.plan_cases_alerts",
    ),
    "CELERY_QUEUE_REEVALUATION": (
        "cases.apply_reevaluation_chunk",
        "cases.tidy_after_reevaluation",
        "cases.run_impact",
        "cases.sweep_reevaluations",
    ),
}


def celery_task_routes(*, environ: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """{task name: {"queue": name}} for each task kind whose CELERY_QUEUE_* setting is set.

    Unset (the default), every task goes to CELERY_TASK_DEFAULT_QUEUE and one kind of worker
    reads it. Set, the tasks of that kind go to that queue, and a worker started with
    `celery -A project worker -Q <queue>` takes them: sending alerts never waits behind a law
    change going through every case.
    """
    queues = {  # each name spelled out, so that tests find every setting read
        "CELERY_QUEUE_SENDING": env_str("CELERY_QUEUE_SENDING", environ=environ),
        "CELERY_QUEUE_PLANNING": env_str("CELERY_QUEUE_PLANNING", environ=environ),
        "CELERY_QUEUE_REEVALUATION": env_str("CELERY_QUEUE_REEVALUATION", environ=environ),
    }
    routes: dict[str, dict[str, str]] = {}
    for setting, tasks in TASK_KINDS.items():
        queue = queues[setting].strip()
        if not queue:
            continue
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", queue):
            raise ImproperlyConfigured(
                f"{setting}={queue!r}: a queue name is letters, digits, '_', '.', '-'"
            )
        routes.update({task: {"queue": queue} for task in tasks})
    return routes


def celery_broker_config(redis_url: str, *, run_dir: Path) -> dict[str, Any]:
    """Return Celery's broker settings: Redis when REDIS_URL is set, else plain folders.

    The filesystem transport needs no server, so `make run` works on a bare machine. It is for
    local development only: a message is deleted as soon as a worker reads it, so acks_late gives
    no redelivery and a task waiting for its ETA is lost if the worker stops.
    """
    if redis_url:
        # kombu's Redis transport with the fix for a worker that died when Redis went away
        # with messages unacknowledged (project/broker.py).
        return {
            "broker_url": redis_url,
            "broker_transport": "project.broker:Transport",
            "broker_transport_options": {},
        }
    folders = {
        "data_folder_in": run_dir / "queue",
        "data_folder_out": run_dir / "queue",
        "control_folder": run_dir / "control",
        "processed_folder": run_dir / "processed",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {key: str(folder) for key, folder in folders.items()}
    options["store_processed"] = False
    # A host name, though unused, keeps kombu from warning that none was given.
    return {
        "broker_url": "filesystem://localhost//",
        "broker_transport": None,
        "broker_transport_options": options,
    }
