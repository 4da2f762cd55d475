"""How fast alerts are planned and sent, on cases with several pending deadlines each.

1. data: N open cases (6 to 14 steps of the procedure, the last one 0 to 20 days ago, half of
   the applicants reachable by SMS and email), built by benchmarks/data.py: templates through the
   app, the rest bulk copies;
2. the daily sweep: `plan_cases(None)` over every open case (creates the rows: how many alert
   rows a case gets is printed; real cases have ~5), then again (creates nothing);
3. the frequent run: `run_planner(incremental=True)` with 1% of the cases changed since the
   previous run, its cost as a share of one core over its 5-minute interval;
4. queueing and sending: up to BENCH_ALERTS_SEND planned rows (2,000) made due now (their
   send_after set to a minute ago), `dispatch_due` publishes one send task each to Redis, and a
   Celery worker (prefork, BENCH_ALERTS_CONCURRENCY processes, default the CPU count) claims,
   renders and sends them through the locmem email and SMS backends: the pipeline's own cost
   (database, broker, rendering), not a provider's.

Step 4 needs REDIS_URL (skipped with a message otherwise, or with --no-send). Runs in its own
process on a throwaway database of its own (benchmarks/db.py: a unique name on the PostgreSQL
server of BENCH_DATABASE_URL or DATABASE_URL, created and dropped; else a SQLite file). Figures
go to stdout and .run/bench/alerts.json.

    python -m benchmarks.alerts [--cases 20000] [--no-send]
"""

from __future__ import annotations

import argparse
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
OUT_DIR = Path(os.environ.get("BENCH_OUT_DIR") or ROOT / ".run" / "bench")
OUT_FILE = OUT_DIR / "alerts.json"
CASES = int(os.environ.get("BENCH_ALERTS_CASES", "20000"))
SEND = int(os.environ.get("BENCH_ALERTS_SEND", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_ALERTS_CONCURRENCY", str(os.cpu_count() or 2)))
POOL = os.environ.get("BENCH_ALERTS_POOL", "prefork")
WORKER_LOG_LEVEL = os.environ.get("BENCH_ALERTS_WORKER_LOG_LEVEL", "WARNING")
CHANGED_SHARE = 0.01  # of the cases, changed between two frequent runs
INTERVAL_S = 300  # the frequent run's interval (ALERT_PLANNER_INTERVAL_MINUTES)


def _progress(message: str) -> None:
    print(f"  alerts: {message}", file=sys.stderr, flush=True)


def environment() -> dict[str, str]:
    return {
        "CELERY_TASK_DEFAULT_QUEUE": f"bench-alerts-{uuid.uuid4().hex[:8]}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SMS_BACKEND": "locmem",
        "ALERT_SEND_HOUR": "0",
        "ALERT_SMS_START_HOUR": "0",
        "ALERT_SMS_END_HOUR": "24",
    }


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


def _send(env: dict[str, str], report: dict[str, Any]) -> None:
    from django.utils import timezone

    from notifications.dispatch import dispatch_due
    from notifications.models import Notification

    planned = Notification.objects.filter(status="planned")
    now = timezone.now()
    already = list(planned.filter(send_after__lte=now).values_list("pk", flat=True))
    more = planned.filter(send_after__gt=now).order_by("send_after", "pk")
    more_ids = list(more.values_list("pk", flat=True)[: max(0, SEND - len(already))])
    # Due a minute ago: the rows the planner made, sent as if their day had come.
    Notification.objects.filter(pk__in=more_ids).update(send_after=now - dt.timedelta(minutes=1))
    ids = [*already, *more_ids]
    due = len(ids)
    worker = None
    try:
        _progress(f"starting a worker ({CONCURRENCY} processes)")
        worker = start_worker(env, OUT_DIR / "alerts-worker.log")
        _progress(f"queueing and sending {due:,} due alerts")
        start = time.perf_counter()
        queued = dispatch_due()
        queue_s = time.perf_counter() - start
        timeout = max(300.0, due / 5)
        done = Notification.objects.filter(pk__in=ids).exclude(status__in=["planned", "sending"])
        while time.perf_counter() - start < timeout:
            if done.count() >= due:
                break
            time.sleep(0.25)
        send_s = time.perf_counter() - start
    finally:
        if worker is not None:
            stop_worker(worker)
    sent = Notification.objects.filter(pk__in=ids, status="sent").count()
    failed = Notification.objects.filter(pk__in=ids, status="failed").count()
    channels = set(
        Notification.objects.filter(pk__in=ids, status="sent").values_list("channel", flat=True)
    )
    report["send"] = {
        "due": due,
        "queued": queued,
        "queue_seconds": round(queue_s, 3),
        "queued_per_second": round(queued / queue_s) if queue_s else None,
        "sent": sent,
        "failed": failed,
        "channels": sorted(channels),
        "seconds": round(send_s, 3),
        "sent_per_second": round(sent / send_s),
        "complete": sent + failed == due and failed == 0,
    }


def run(cases: int, send: bool) -> dict[str, Any]:
    from benchmarks import data, db

    env = environment()
    with db.throwaway_database("alerts") as url:
        db.configure_django(url, **env)
        env = {**os.environ}
        from django.db.models import Count
        from django.utils import timezone

        from cases.models import Case, Deadline
        from notifications.models import Notification, PlannerRun
        from notifications.planner import plan_cases, run_planner
        from project.celery import app

        report: dict[str, Any] = {
            "cases": cases,
            "worker_concurrency": CONCURRENCY,
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "load_average": os.getloadavg(),
            },
        }
        try:
            _progress("migrating a throwaway database")
            db.migrate()
            report["database"] = db.vendor()
            _progress(f"creating {cases:,} cases (benchmarks/data.py)")
            population = data.populate(
                cases,
                events=(6, 14),  # ~10 events a case, as the pages and re-evaluation
                contact_share=0.5,
                last_event_days=(0, 20),
                closed_share=0.0,
                templates=min(300, cases),
                progress=_progress,
            )
            report["data"] = {
                "cases": population.cases,
                "events": population.events,
                "deadlines": population.deadlines,
                "seconds": population.seconds,
            }

            _progress("the daily sweep: plan every open case")
            start = time.perf_counter()
            counts = plan_cases(None)
            plan_s = time.perf_counter() - start
            per_case = list(
                Notification.objects.values("case_id")
                .annotate(n=Count("pk"))
                .values_list("n", flat=True)
            )
            open_cases = Case.objects.filter(state="open").count()
            start = time.perf_counter()
            again = plan_cases(None)
            replan_s = time.perf_counter() - start
            report["plan"] = {
                "cases_planned": counts.cases,
                "rows_created": counts.created,
                "rows_per_open_case": round(counts.created / max(1, open_cases), 2),
                "cases_with_alerts": len(per_case),
                "max_rows_per_case": max(per_case, default=0),
                "seconds": round(plan_s, 3),
                "rows_per_second": round(counts.created / plan_s),
                "second_run_created": again.created,
                "second_run_seconds": round(replan_s, 3),
                "second_run_ms_per_case": round(1000 * replan_s / max(1, again.cases), 3),
                "sweep_100k_seconds": round(100_000 * replan_s / max(1, again.cases), 1),
            }

            _progress("the frequent run: 1% of the cases changed since the previous run")
            # Nothing changed for a day, then a previous run 5 minutes ago; 1% changed since.
            day_ago = timezone.now() - dt.timedelta(days=1)
            Case.objects.update(updated_at=day_ago)
            Deadline.objects.update(updated_at=day_ago)
            run_planner(incremental=False, dispatch=False, case_ids=[])
            PlannerRun.objects.update(started_at=timezone.now() - dt.timedelta(minutes=5))
            changed = max(1, round(cases * CHANGED_SHARE))
            ids = list(Case.objects.order_by("?").values_list("pk", flat=True)[:changed])
            Case.objects.filter(pk__in=ids).update(updated_at=timezone.now())
            start = time.perf_counter()
            frequent = run_planner(incremental=True, dispatch=False)
            frequent_s = time.perf_counter() - start
            report["frequent"] = {
                "changed_cases": changed,
                "cases_planned": frequent.cases,
                "seconds": round(frequent_s, 3),
                "core_share": round(frequent_s / INTERVAL_S, 5),
            }
            if send:
                _send(env, report)
        finally:
            queue = env["CELERY_TASK_DEFAULT_QUEUE"]
            if send:
                with app.connection_for_write() as connection:
                    client = connection.default_channel.client
                    for key in [queue, *client.scan_iter(match=f"*{queue}*")]:
                        client.delete(key)  # the queue and kombu's bindings for it
    return report


def print_report(report: dict[str, Any]) -> None:
    plan, frequent = report["plan"], report["frequent"]
    print(f"\nAlerts ({report['database']}, {report['cases']:,} open cases)")
    d = report["data"]
    print(
        f"  data: {d['cases']:,} cases, {d['events']:,} events, {d['deadlines']:,} deadlines "
        f"(built in {d['seconds']:.1f} s)"
    )
    print(
        f"  daily sweep, first run: {plan['rows_created']:,} alert rows = "
        f"{plan['rows_per_open_case']:.1f} a case (at most {plan['max_rows_per_case']}), "
        f"{plan['seconds']:.1f} s = {plan['rows_per_second']:,} rows/s"
    )
    print(
        f"  daily sweep, again: {plan['second_run_created']} created in "
        f"{plan['second_run_seconds']:.2f} s = {plan['second_run_ms_per_case']:.2f} ms a case "
        f"(100,000 cases: ~{plan['sweep_100k_seconds']:.0f} s a day)"
    )
    print(
        f"  frequent run, {frequent['changed_cases']:,} cases changed: {frequent['seconds']:.2f} s "
        f"= {100 * frequent['core_share']:.2f}% of a core over its {INTERVAL_S // 60}-minute "
        "interval"
    )
    send = report.get("send")
    if send is None:
        print("  sending: not run (needs REDIS_URL; --no-send skips it)")
        return
    print(
        f"  queued: {send['queued']:,} tasks in {send['queue_seconds']:.2f} s = "
        f"{send['queued_per_second']:,}/s (worker prefork x{report['worker_concurrency']})"
    )
    print(
        f"  sent: {send['sent']:,} of {send['due']:,} ({send['failed']} failed) in "
        f"{send['seconds']:.2f} s = {send['sent_per_second']:,} alerts/s (queueing included; "
        "locmem transports)"
    )
    if not send["complete"]:
        print("  WARNING: not every due alert was sent before the timeout")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=CASES)
    parser.add_argument("--no-send", action="store_true", help="plan only (no broker)")
    args = parser.parse_args(argv)
    send = not args.no_send
    if send and not os.environ.get("REDIS_URL") and not os.environ.get("REDIS_URL_FILE"):
        print("  alerts: sending skipped (set REDIS_URL: it goes through the real broker)")
        send = False
    report = run(args.cases, send)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report)
    return 0 if report.get("send", {"complete": True})["complete"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
