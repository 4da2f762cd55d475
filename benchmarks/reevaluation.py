"""How fast a law change goes through every open case: the re-evaluation job, 2 workers.

On a throwaway PostgreSQL database (created beside BENCH_DATABASE_URL's, else DATABASE_URL's,
with a unique name, and dropped at the end; SQLite when neither is PostgreSQL), with N open cases
of the shipped procedure (prefecture presentation, registration, the request sent to OFPRA for one
in two, an incomplete-file notice for one in twenty): the published version is re-evaluated once
to store every case's deadlines, then a draft with another OFPRA-submission limit (every case has
its trigger) is published and its run is applied by WORKERS processes taking chunks through the
job's own claim and lease (cases/reevaluation.py); then a draft with another file-completion limit
(only the cases with an incomplete-file notice can move: the others are stamped, not evaluated).
The alert-planning hook is left out of the timing (in production it is a separate task on the
workers).

    python -m benchmarks.reevaluation [--cases 5000] [--workers 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / ".run" / "bench"


def _progress(message: str) -> None:
    print(f"  reevaluation: {message}", file=sys.stderr, flush=True)


def prepare_environment() -> Any:
    import dj_database_url

    base_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    drop: Any = None
    if base_url.startswith(("postgres://", "postgresql://")):
        import psycopg

        config = dj_database_url.parse(base_url)
        name = f"asylum_bench_reeval_{uuid.uuid4().hex[:10]}"  # ours alone: created, dropped
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
        path = OUT_DIR / f"reevaluation-{uuid.uuid4().hex[:8]}.sqlite3"
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


def create_cases(count: int) -> None:
    from django.contrib.auth.models import User

    from cases.models import Case, CaseEvent, Membership, Organisation
    from rules.models import RulePack

    organisation = Organisation.objects.create(name="Bench")
    caseworker = User.objects.create_user("bench-caseworker")
    Membership.objects.create(user=caseworker, organisation=organisation)
    procedure = RulePack.objects.get(key="asylum-reexamination")
    start = dt.date(2026, 3, 2)
    for first in range(0, count, 5000):
        cases = Case.objects.bulk_create(
            [
                Case(
                    organisation=organisation,
                    reference=f"B-{n:06d}",
                    applicant_name="x",
                    department=("54", "57", "75", "93", "971")[n % 5],
                    assigned_to=caseworker,
                    procedure=procedure,
                )
                for n in range(first, min(count, first + 5000))
            ]
        )
        events = []
        for n, case in enumerate(cases, start=first):
            day = start + dt.timedelta(days=n % 60)
            events.append(CaseEvent(case=case, type="prefecture_presentation", date=day))
            events.append(
                CaseEvent(case=case, type="registration", date=day + dt.timedelta(days=3))
            )
            if n % 2:
                events.append(
                    CaseEvent(case=case, type="ofpra_submission", date=day + dt.timedelta(days=9))
                )
                if n % 20 == 1:
                    events.append(
                        CaseEvent(
                            case=case,
                            type="ofpra_incomplete_notice",
                            date=day + dt.timedelta(days=15),
                        )
                    )
        CaseEvent.objects.bulk_create(events)


def _worker(number: int, chunk_ids: list[int], workers: int) -> None:
    import django

    django.setup()
    from cases import actions, reevaluation

    actions.after_many_deadlines_change.clear()  # alert planning: a task of its own
    mine = chunk_ids[number::workers]
    for chunk_id in [*mine, *chunk_ids]:  # then help with what the other has left
        reevaluation.apply_chunk(chunk_id)


def apply_run(version_id: int, workers: int) -> tuple[float, Any]:
    from django.db import connections

    from cases import reevaluation

    run = reevaluation.start_run(version_id)
    chunk_ids = list(run.chunks.order_by("number").values_list("pk", flat=True))
    connections.close_all()  # forked workers open their own
    context = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    processes = [
        context.Process(target=_worker, args=(n, chunk_ids, workers)) for n in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - start
    run.refresh_from_db()
    return elapsed, run


def law_change(
    published: Any, rule_key: str, reason: str, workers: int, say: str
) -> dict[str, Any]:
    """Publish a draft giving 2 more days in one rule, and apply its run; its figures."""
    from rules.models import DeadlineRuleVersion, PackVersion
    from rules.packstore import copy_as_draft

    draft = copy_as_draft(published)
    for rule in DeadlineRuleVersion.objects.filter(rule__pack_version=draft, rule__key=rule_key):
        rule.offset += 2
        rule.save()
    PackVersion.objects.filter(pk=published.pk).update(status=PackVersion.Status.RETIRED)
    draft.status = PackVersion.Status.PUBLISHED
    draft.publish_reason = reason
    draft.save()
    _progress(f"{say}: {workers} workers")
    seconds, done = apply_run(draft.pk, workers)
    return {
        "seconds": round(seconds, 2),
        "done": done.done_cases,
        "changed": done.changed_cases,
        "failed": done.failed_cases,
        "state": done.state,
        "cases_per_second": round(done.done_cases / seconds),
        "extrapolated_100k_seconds": round(100_000 * seconds / max(1, done.done_cases), 1),
    }


def run(cases: int, workers: int) -> dict[str, Any]:
    drop = prepare_environment()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from rules.models import PackVersion

    report: dict[str, Any] = {
        "database": connections["default"].vendor,
        "cases": cases,
        "workers": workers,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
    }
    try:
        _progress(f"migrating a throwaway {report['database']} database")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("loadrulepack", stdout=open(os.devnull, "w"))  # noqa: SIM115
        _progress(f"creating {cases:,} cases")
        create_cases(cases)
        published = PackVersion.objects.get(
            pack__key="asylum-reexamination", status=PackVersion.Status.PUBLISHED
        )
        _progress("first evaluation of every case (deadlines created)")
        first_s, first = apply_run(published.pk, workers)
        report["first"] = {"seconds": round(first_s, 2), "changed": first.changed_cases}

        report["law_change"] = law_change(
            published,
            "ofpra_submission",
            "benchmark: 2 more days to send the request",
            workers,
            "publishing a law change every case can feel",
        )
        current = PackVersion.objects.get(
            pack__key="asylum-reexamination", status=PackVersion.Status.PUBLISHED
        )
        report["narrow_change"] = law_change(
            current,
            "file_completion",
            "benchmark: 2 more days to complete the file",
            workers,
            "publishing a law change one case in twenty can feel",
        )
        report["machine"]["load_average_after"] = os.getloadavg()
    finally:
        connections.close_all()
        drop()
    return report


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\nRe-evaluation after a law change ({report['cases']:,} open cases, "
        f"{report['database']}, {report['workers']} worker processes)"
    )
    print(f"  first evaluation (creates every deadline): {report['first']['seconds']:.1f} s")
    for name, what in (
        ("law_change", "law change every case feels"),
        ("narrow_change", "law change 1 case in 20 feels"),
    ):
        law = report[name]
        print(
            f"  {what}: {law['done']:,} cases ({law['changed']:,} moved, {law['failed']} "
            f"refused) in {law['seconds']:.1f} s = {law['cases_per_second']:,} cases/s; "
            f"100,000 cases: ~{law['extrapolated_100k_seconds']:.0f} s (target < 60 s)"
        )
    machine = report["machine"]
    print(
        f"  machine: {machine['cpus']} CPUs, load average before "
        f"{machine['load_average'][0]:.1f}, after {machine['load_average_after'][0]:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = int(os.environ.get("BENCH_REEVAL_CASES", "5000"))
    parser.add_argument("--cases", type=int, default=default)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    report = run(args.cases, args.workers)
    print_report(report)
    done = all(report[name]["state"] == "done" for name in ("law_change", "narrow_change"))
    return 0 if done else 1


if __name__ == "__main__":
    raise SystemExit(main())
