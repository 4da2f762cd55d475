"""How fast alerts are planned and sent: 10,000 due alerts through the real broker.

1. planning: `plan_cases` over 5,000 open cases whose deadline falls due today (each gets the
   caseworker's due-day email, the applicant's SMS and a caseworker overdue alert for tomorrow:
   15,000 rows, 10,000 due now), then the same run again, which must create nothing;
2. queueing: `dispatch_due` publishes one send task per due alert to Redis;
3. sending: a Celery worker (prefork, BENCH_ALERTS_CONCURRENCY processes, default the CPU
   count) claims, renders and sends them through the locmem email and SMS backends, so the
   figure is the pipeline's own cost (database, broker, rendering), not a provider's.

Needs REDIS_URL (skipped with a message otherwise). Runs in its own process, on a throwaway
database: a fresh PostgreSQL database beside BENCH_DATABASE_URL's (else DATABASE_URL's) when
that is PostgreSQL (created and dropped here), else a SQLite file under .run/bench/. Figures go
to stdout and .run/bench/alerts.json. Sizes: BENCH_ALERTS_CASES (two due alerts each),
BENCH_ALERTS_CONCURRENCY and BENCH_ALERTS_POOL for the worker.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / ".run" / "bench"
OUT_FILE = OUT_DIR / "alerts.json"
SQLITE_FILE = OUT_DIR / "alerts.sqlite3"
CASES = int(os.environ.get("BENCH_ALERTS_CASES", "5000"))  # two due alerts each
CONCURRENCY = int(os.environ.get("BENCH_ALERTS_CONCURRENCY", str(os.cpu_count() or 2)))
POOL = os.environ.get("BENCH_ALERTS_POOL", "prefork")
WORKER_LOG_LEVEL = os.environ.get("BENCH_ALERTS_WORKER_LOG_LEVEL", "WARNING")


def _progress(message: str) -> None:
    print(f"  alerts: {message}", file=sys.stderr, flush=True)


def prepare_environment() -> tuple[dict[str, str], Any]:
    """Point this process (and the worker) at a throwaway database and a private queue."""
    import dj_database_url

    base_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    drop: Any = None
    if base_url.startswith(("postgres://", "postgresql://")):
        import psycopg

        config = dj_database_url.parse(base_url)
        name = f"{config['NAME']}_bench_alerts"
        admin = psycopg.connect(
            dbname="postgres",
            user=config.get("USER") or None,
            password=config.get("PASSWORD") or None,
            host=config.get("HOST") or None,
            port=config.get("PORT") or None,
            autocommit=True,
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        url = base_url.rsplit("/", 1)[0] + f"/{name}"

        def drop() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    else:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE_FILE}"
    for variable in ("DATABASE_URL", "DJANGO_DEBUG", "EMAIL_BACKEND", "SMS_BACKEND"):
        os.environ.pop(f"{variable}_FILE", None)  # a NAME_FILE would win over NAME
    env = {
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "false",  # with DEBUG on, Django keeps every query in memory
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or "bench-" + uuid.uuid4().hex,
        "DJANGO_LOG_LEVEL": "WARNING",
        "CELERY_TASK_DEFAULT_QUEUE": f"bench-alerts-{uuid.uuid4().hex[:8]}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SMS_BACKEND": "locmem",
        "ALERT_SEND_HOUR": "0",
        "ALERT_SMS_START_HOUR": "0",
        "ALERT_SMS_END_HOUR": "24",
        "DJANGO_SETTINGS_MODULE": "project.settings",
    }
    os.environ.update(env)
    return {**os.environ}, drop


def create_cases(count: int) -> None:
    from django.contrib.auth.models import User

    from cases.models import Case, Deadline, Membership, Organisation
    from notifications.schedule import local_date
    from rules.models import RulePack

    organisation = Organisation.objects.create(name="Bench")
    caseworker = User.objects.create_user("bench-caseworker", email="cw@example.org")
    Membership.objects.create(user=caseworker, organisation=organisation)
    procedure = RulePack.objects.get(key="asylum-reexamination")
    today = local_date(dt.datetime.now(dt.UTC))
    cases = Case.objects.bulk_create(
        [
            Case(
                organisation=organisation,
                reference=f"B-{n:05d}",
                applicant_name="x",
                department="57",
                assigned_to=caseworker,
                procedure=procedure,
                phone="+33612345678",
                sms_consent=True,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    Deadline.objects.bulk_create(
        [
            Deadline(
                case=case,
                key="ofpra_submission",
                label="Sending the request to OFPRA",
                due=today,
                status="open",
                trigger_type="registration",
                trigger_date=today - dt.timedelta(days=8),
                rule_version=2,
                confidence="certain",
                legal_basis="CESEDA R531-36",
                explanation="",
                pack_version=1,
            )
            for case in cases
        ],
        batch_size=1000,
    )


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "project",
                "worker",
                f"--pool={POOL}",
                f"--concurrency={CONCURRENCY}",
                "-Q",
                env["CELERY_TASK_DEFAULT_QUEUE"],
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--loglevel={WORKER_LOG_LEVEL}",
                "-n",
                f"{env['CELERY_TASK_DEFAULT_QUEUE']}@%h",
            ],
            cwd=ROOT,
            env={**env, "DJANGO_LOG_LEVEL": WORKER_LOG_LEVEL},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # Ready when it answers a ping (its log stays quiet at WARNING).
    from project.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"worker exited:\n{log.read_text()[-3000:]}")
        replies = app.control.ping(timeout=0.5) or []
        if any(env["CELERY_TASK_DEFAULT_QUEUE"] in name for reply in replies for name in reply):
            return worker
    raise RuntimeError("worker not ready after 60 s")


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.kill(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


def run() -> dict[str, Any]:
    env, drop = prepare_environment()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from notifications.dispatch import dispatch_due
    from notifications.models import Notification
    from notifications.planner import plan_cases
    from project.celery import app

    report: dict[str, Any] = {
        "database": connections["default"].vendor,
        "broker": "redis",
        "cases": CASES,
        "worker_concurrency": CONCURRENCY,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    worker = None
    try:
        _progress(f"migrating a throwaway {report['database']} database")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("loadrulepack", stdout=open(os.devnull, "w"))  # noqa: SIM115
        _progress(f"creating {CASES:,} cases")
        create_cases(CASES)

        _progress("planning")
        start = time.perf_counter()
        counts = plan_cases(None)
        plan_s = time.perf_counter() - start
        due = Notification.objects.filter(
            status="planned", send_after__lte=dt.datetime.now(dt.UTC)
        ).count()
        start = time.perf_counter()
        again = plan_cases(None)
        replan_s = time.perf_counter() - start
        report["plan"] = {
            "rows_created": counts.created,
            "due_now": due,
            "seconds": round(plan_s, 3),
            "rows_per_second": round(counts.created / plan_s),
            "due_alerts_per_second": round(due / plan_s),
            "second_run_created": again.created,
            "second_run_seconds": round(replan_s, 3),
            "cases_per_second_second_run": round(CASES / replan_s),
        }

        _progress(f"starting a worker ({CONCURRENCY} processes)")
        worker = start_worker(env, OUT_DIR / "alerts-worker.log")
        _progress(f"queueing and sending {due:,} due alerts")
        start = time.perf_counter()
        queued = dispatch_due()
        queue_s = time.perf_counter() - start
        timeout = max(120.0, due / 20)
        while time.perf_counter() - start < timeout:
            sent = Notification.objects.filter(status="sent").count()
            if sent >= due:
                break
            time.sleep(0.25)
        send_s = time.perf_counter() - start
        sent = Notification.objects.filter(status="sent").count()
        failed = Notification.objects.filter(status="failed").count()
        report["send"] = {
            "queued": queued,
            "queue_seconds": round(queue_s, 3),
            "queued_per_second": round(queued / queue_s) if queue_s else None,
            "sent": sent,
            "failed": failed,
            "seconds": round(send_s, 3),
            "sent_per_second": round(sent / send_s),
            "complete": sent == due,
        }
    finally:
        if worker is not None:
            stop_worker(worker)
        queue = env["CELERY_TASK_DEFAULT_QUEUE"]
        with app.connection_for_write() as connection:
            client = connection.default_channel.client
            for key in [queue, *client.scan_iter(match=f"*{queue}*")]:
                client.delete(key)  # the queue and kombu's bindings for it
        connections.close_all()
        if drop is not None:
            drop()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
    return report


def print_report(report: dict[str, Any]) -> None:
    plan, send = report["plan"], report["send"]
    print(f"\nAlerts ({plan['due_now']:,} due alerts, real Redis broker, locmem transports)")
    print(
        f"  database {report['database']}, worker prefork x{report['worker_concurrency']}, "
        f"{report['cases']:,} cases"
    )
    print(
        f"  planned: {plan['rows_created']:,} rows ({plan['due_now']:,} due now) in "
        f"{plan['seconds']:.2f} s = {plan['rows_per_second']:,} rows/s, "
        f"{plan['due_alerts_per_second']:,} due alerts/s"
    )
    print(
        f"  planned again: {plan['second_run_created']} created in "
        f"{plan['second_run_seconds']:.2f} s ({plan['cases_per_second_second_run']:,} cases/s)"
    )
    print(
        f"  queued: {send['queued']:,} tasks in {send['queue_seconds']:.2f} s = "
        f"{send['queued_per_second']:,}/s"
    )
    print(
        f"  sent: {send['sent']:,} ({send['failed']} failed) in {send['seconds']:.2f} s = "
        f"{send['sent_per_second']:,} alerts/s (queueing included)"
    )
    if not send["complete"]:
        print("  WARNING: not every due alert was sent before the timeout")


def main() -> int:
    if not os.environ.get("REDIS_URL") and not os.environ.get("REDIS_URL_FILE"):
        print("\nAlerts: skipped (set REDIS_URL: this benchmark sends through the real broker)")
        return 0
    report = run()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report)
    return 0 if report["send"]["complete"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
