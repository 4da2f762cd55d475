"""How fast a law change goes through every open case: the re-evaluation job, 2 workers.

On a throwaway PostgreSQL database (created beside BENCH_DATABASE_URL's, else DATABASE_URL's,
with a unique name, and dropped at the end; SQLite when neither is PostgreSQL), with N open cases
of the shipped procedure built by benchmarks/data.py as for the pages' benchmark (~10 events a
case: 6 to 14 consecutive steps of a re-examination file, their deadlines stored as the app
stores them, none closed). Three runs, each applied by WORKERS processes taking chunks through
the job's own claim and lease (cases/reevaluation.py):

1. the published version again: every case stamped, none evaluated (the data already holds what
   it gives);
2. a law change every case feels: another OFPRA-submission limit published with a review
   horizon (`reviewed_until`) a day later, which every case's warnings read, so no case can be
   skipped;
3. a narrow law change: another limit for the CNDA's decision, which only the cases with a CNDA
   appeal can feel (about a third of them here): the others are stamped, not evaluated.

The alert-planning hook is left out of the timing (in production it is a separate task on the
workers), and so is the VACUUM a finished run's tidy task makes (timed apart). Each step also
reports the CPU time its workers and their PostgreSQL backends spent (a local server's, from
/proc): on a machine shared with other work the wall clock is noise, while that CPU time per
case says what an idle machine would take.

    python -m benchmarks.reevaluation [--cases 5000] [--workers 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = Path(os.environ.get("BENCH_OUT_DIR") or ROOT / ".run" / "bench")
OUT_FILE = OUT_DIR / "reevaluation.json"


def _progress(message: str) -> None:
    print(f"  reevaluation: {message}", file=sys.stderr, flush=True)


def prepare_environment(label: str = "reeval") -> Any:
    """A throwaway database named asylum_bench_<label>_<random> (SQLite file: <label>-…)."""
    import dj_database_url

    base_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    drop: Any = None
    if base_url.startswith(("postgres://", "postgresql://")):
        import psycopg

        config = dj_database_url.parse(base_url)
        name = f"asylum_bench_{label}_{uuid.uuid4().hex[:10]}"  # ours alone: created, dropped
        admin = psycopg.connect(
            dbname="postgres",
            user=config.get("USER") or None,
            password=config.get("PASSWORD") or None,
            host=config.get("HOST") or None,
            port=config.get("PORT") or None,
            autocommit=True,
        )
        admin.execute(f'CREATE DATABASE "{name}"')
        url = base_url.rsplit("/", 1)[0] + f"/{name}"

        def drop() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    else:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUT_DIR / f"{label}-{uuid.uuid4().hex[:8]}.sqlite3"
        url = f"sqlite:///{path}"

        def drop() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    os.environ.pop("DATABASE_URL_FILE", None)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or uuid.uuid4().hex,
            "DJANGO_LOG_LEVEL": "WARNING",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_SETTINGS_MODULE": "project.settings",
        }
    )
    return drop


def create_cases(count: int) -> dict[str, int]:
    """`count` open cases, ~10 events each (benchmarks/data.py); what was written."""
    from benchmarks.data import populate

    population = populate(
        count,
        templates=min(300, count),
        caseworkers=min(20, count),
        closed_share=0.0,
        progress=lambda message: _progress(f"data: {message}"),
    )
    return {
        "cases": population.cases,
        "events": population.events,
        "deadlines": population.deadlines,
    }


# The narrow change: a rule only the cases with this event can feel.
NARROW_RULE = "cnda_decision"
NARROW_TRIGGER = "cnda_appeal_filed"


def cases_with_event(kind: str) -> int:
    from cases.models import CaseEvent

    return CaseEvent.objects.filter(type=kind).values("case_id").distinct().count()


def _machine_seconds() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine so far, all CPUs (/proc/stat), else 0."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:8]]
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / tick, idle / tick


def _backend_cpu_seconds() -> float:
    """CPU time of this process's PostgreSQL backend (a local server: /proc), else 0."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # another machine
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker(number: int, chunk_ids: list[int], workers: int, spent: Any) -> None:
    import django

    django.setup()
    from cases import actions, reevaluation

    actions.after_many_deadlines_change.clear()  # alert planning: a task of its own
    started = time.process_time()
    mine = chunk_ids[number::workers]
    for chunk_id in [*mine, *chunk_ids]:  # then help with what the other has left
        reevaluation.apply_chunk(chunk_id)
    spent.put((time.process_time(), _backend_cpu_seconds(), started))


def apply_run(version_id: int, workers: int) -> tuple[float, Any, dict[str, float]]:
    """Seconds, the run, and the CPU seconds its workers and their database backends spent
    (start-up included): on a shared machine, CPU time says more than the wall clock."""
    from django.db import connections

    from cases import reevaluation

    run = reevaluation.start_run(version_id)
    chunk_ids = list(run.chunks.order_by("number").values_list("pk", flat=True))
    connections.close_all()  # forked workers open their own
    context = multiprocessing.get_context("spawn")
    spent = context.Queue()
    machine = _machine_seconds()
    start = time.perf_counter()
    processes = [
        context.Process(target=_worker, args=(n, chunk_ids, workers, spent)) for n in range(workers)
    ]
    for process in processes:
        process.start()
    used = [spent.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - start
    busy, idle = (after - before for after, before in zip(_machine_seconds(), machine, strict=True))
    run.refresh_from_db()
    # What the run's tidy task does once it is finished (not in the run's time): the next
    # run finds the tables as a server with autovacuum would leave them.
    tidy = time.perf_counter()
    reevaluation.tidy_tables()
    connections.close_all()
    cpu = {
        "workers": round(sum(u[0] for u in used), 2),
        "database": round(sum(u[1] for u in used), 2),
        "workers_start_up": round(sum(u[2] for u in used), 2),  # Python and Django
        "tidy_seconds": round(time.perf_counter() - tidy, 2),
        # The whole machine meanwhile: the rest of the busy time is other processes (the
        # database's writer and checkpointer, the kernel, anything else running).
        "machine_busy": round(busy, 2),
        "machine_idle": round(idle, 2),
    }
    return elapsed, run, cpu


def _figures(seconds: float, done: Any, cpu: dict[str, float], workers: int) -> dict[str, Any]:
    cases = max(1, done.done_cases)
    # Per case: without the workers' start-up (Python, Django), paid once whatever the cases.
    start_up = cpu["workers_start_up"]
    per_case = (cpu["workers"] - start_up + cpu["database"]) / cases
    parallel = min(workers, os.cpu_count() or 1)
    return {
        "seconds": round(seconds, 2),
        "done": done.done_cases,
        "changed": done.changed_cases,
        "failed": done.failed_cases,
        "state": done.state,
        "cases_per_second": round(done.done_cases / seconds),
        "extrapolated_100k_seconds": round(100_000 * seconds / cases, 1),
        "cpu_seconds": cpu,
        # Workers' and database backends' CPU per case: what an idle machine would need.
        "cpu_ms_per_case": round(1000 * per_case, 3),
        # A worker waits for its backend: each worker keeps at most one CPU busy.
        "cpu_bound_100k_seconds": round((100_000 * per_case + start_up) / parallel, 1),
    }


def law_change(
    published: Any,
    rule_key: str,
    reason: str,
    workers: int,
    say: str,
    *,
    review_days: int = 0,
) -> dict[str, Any]:
    """Publish a draft giving 2 more days in one rule (and, with `review_days`, a review horizon
    that many days later), and apply its run; its figures."""
    from rules.models import DeadlineRuleVersion, PackVersion
    from rules.packstore import copy_as_draft

    draft = PackVersion.objects.get(pk=copy_as_draft(published).pk)  # fields as stored
    for rule in DeadlineRuleVersion.objects.filter(rule__pack_version=draft, rule__key=rule_key):
        rule.offset += 2
        rule.save()
    if review_days:
        assert draft.reviewed_until is not None, "the shipped pack has a review horizon"
        draft.reviewed_until += dt.timedelta(days=review_days)
    PackVersion.objects.filter(pk=published.pk).update(status=PackVersion.Status.RETIRED)
    draft.status = PackVersion.Status.PUBLISHED
    draft.publish_reason = reason
    draft.save()
    _progress(f"{say}: {workers} workers")
    return _figures(*apply_run(draft.pk, workers), workers)


def run(cases: int, workers: int) -> dict[str, Any]:
    drop = prepare_environment()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from benchmarks.engine import reference_loop_ms
    from cases.models import ReevaluationRun
    from rules.models import PackVersion

    report: dict[str, Any] = {
        "database": connections["default"].vendor,
        "cases": cases,
        "workers": workers,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            # A million Python additions: compares figures across machines (benchmarks/engine.py).
            "reference_loop_ms": reference_loop_ms(),
        },
    }
    try:
        _progress(f"migrating a throwaway {report['database']} database")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("loadrulepack", stdout=open(os.devnull, "w"))  # noqa: SIM115
        _progress(f"creating {cases:,} cases")
        report["data"] = create_cases(cases)
        report["data"]["narrow_reach"] = cases_with_event(NARROW_TRIGGER)
        published = PackVersion.objects.get(
            pack__key="asylum-reexamination", status=PackVersion.Status.PUBLISHED
        )
        _progress("the published version again: every case stamped")
        # loadrulepack's publication started its run before there were cases: an empty one.
        ReevaluationRun.objects.filter(pack_version=published).delete()
        report["first"] = _figures(*apply_run(published.pk, workers), workers)
        assert report["first"]["done"] == cases, report["first"]

        report["law_change"] = law_change(
            published,
            "ofpra_submission",
            "benchmark: 2 more days to send the request, the law reviewed a day further",
            workers,
            "publishing a law change every case feels",
            review_days=1,
        )
        current = PackVersion.objects.get(
            pack__key="asylum-reexamination", status=PackVersion.Status.PUBLISHED
        )
        report["narrow_change"] = law_change(
            current,
            NARROW_RULE,
            "benchmark: 2 more days for the CNDA's decision",
            workers,
            "publishing a law change only the cases with a CNDA appeal can feel",
        )
        report["machine"]["load_average_after"] = os.getloadavg()
    finally:
        connections.close_all()
        if os.environ.get("BENCH_KEEP_DATABASE") == "1":  # for EXPLAIN and profiles
            _progress(f"kept: {os.environ['DATABASE_URL']} (drop it yourself)")
        else:
            drop()
    return report


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\nRe-evaluation after a law change ({report['cases']:,} open cases, "
        f"{report['database']}, {report['workers']} worker processes)"
    )
    data = report.get("data", {})
    if data:
        print(
            f"  data: {data['cases']:,} cases, {data['events']:,} events, "
            f"{data['deadlines']:,} deadlines; {data['narrow_reach']:,} with a CNDA appeal"
        )
    share = data.get("narrow_reach", 0) / max(1, report["cases"])
    for name, what in (
        ("first", "the published version again (stamped: nothing to evaluate)"),
        ("law_change", "law change every case feels"),
        ("narrow_change", f"law change {share:.0%} of the cases can feel"),
    ):
        law = report[name]
        cpu = law["cpu_seconds"]
        print(
            f"  {what}: {law['done']:,} cases ({law['changed']:,} moved, {law['failed']} "
            f"refused) in {law['seconds']:.1f} s = {law['cases_per_second']:,} cases/s; "
            f"100,000 cases: ~{law['extrapolated_100k_seconds']:.0f} s (target < 60 s); "
            f"CPU {cpu['workers']:.1f} s workers ({cpu['workers_start_up']:.1f} s start-up) + "
            f"{cpu['database']:.1f} s database = "
            f"{law['cpu_ms_per_case']:.2f} ms a case, ~{law['cpu_bound_100k_seconds']:.0f} s "
            f"for 100,000 on an idle machine; the machine meanwhile {cpu['machine_busy']:.1f} s "
            f"busy, {cpu['machine_idle']:.1f} s idle; then VACUUM {cpu['tidy_seconds']:.1f} s"
        )
    machine = report["machine"]
    print(
        f"  machine: {machine['cpus']} CPUs, {machine['reference_loop_ms']} ms for a million "
        f"Python additions, load average before {machine['load_average'][0]:.1f}, after "
        f"{machine['load_average_after'][0]:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = int(os.environ.get("BENCH_REEVAL_CASES", "5000"))
    parser.add_argument("--cases", type=int, default=default)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    report = run(args.cases, args.workers)
    print_report(report)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    done = all(report[name]["state"] == "done" for name in ("law_change", "narrow_change"))
    return 0 if done else 1


if __name__ == "__main__":
    raise SystemExit(main())
