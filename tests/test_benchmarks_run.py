"""The benchmarks still run (at a tiny size), so that they do not rot between two `make bench`.

Nothing here is timed: speed is what `make bench` prints. Each benchmark runs as `make bench`
runs it (its own process, its own throwaway SQLite database, copied from one migrated file so
that the whole module stays fast), writing its figures to a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cases import actions
from cases.models import Case, CaseEvent, Deadline
from rules.services import published_version

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("bench")
    template = folder / "migrated.sqlite3"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DATABASE_URL_FILE", "BENCH_DATABASE_URL", "REDIS_URL")
    }
    env.update(
        {
            "BENCH_OUT_DIR": str(folder),
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DJANGO_SECRET_KEY": "smoke-test-" + "x" * 40,
        }
    )
    for command in (["migrate", "--no-input", "-v0"], ["loadrulepack"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**env, "DATABASE_URL": f"sqlite:///{template}"},
            check=True,
            capture_output=True,
        )
    env["BENCH_SQLITE_TEMPLATE"] = str(template)
    return env


def run(env: dict[str, str], module: str, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report: dict[str, Any] = json.loads(
        (Path(env["BENCH_OUT_DIR"]) / f"{module}.json").read_text(encoding="utf-8")
    )
    return report


def test_engine_benchmark_compares_with_bare_durable_rules_and_many_events(
    bench_env: dict[str, str],
) -> None:
    # The service path too: it checks that the API's answer (the version loadrulepack
    # publishes) equals the engine's on the benchmark's pack, which must be that version.
    report = run(bench_env, "engine", "--quick")
    assert report["cases"][0]["host"] is not None
    assert report["service"]["evaluate_request"]["runs"] == 5
    assert [r["events"] for r in report["repeated"]] == [3, 501]


def test_languages_benchmark_times_two_languages_against_one(bench_env: dict[str, str]) -> None:
    report = run(bench_env, "languages", "--quick")
    assert [case["events"] for case in report["cases"]] == [14, 2, 4, 2]
    assert all(case["two_languages"]["runs"] == 10 for case in report["cases"])


def test_alerts_benchmark_plans_several_alerts_a_case(bench_env: dict[str, str]) -> None:
    report = run(bench_env, "alerts", "--cases", "20", "--no-send")
    assert report["data"]["cases"] == 20
    assert report["plan"]["rows_created"] > 0
    assert report["plan"]["second_run_created"] == 0


def test_api_benchmark_serves_under_gunicorn_and_recompiles(bench_env: dict[str, str]) -> None:
    report = run(
        bench_env,
        "api",
        "--seconds",
        "1",
        "--concurrency",
        "1",
        "--recompiles",
        "4",
        "--generator",
        "python",
    )
    (level,) = report["throughput"]["levels"]
    assert level["requests"] > 0
    assert level["not_200"] == 0
    assert set(report["memory"]["rss_kb"]) == {"0", "1", "2", "4"}


def test_reevaluation_benchmark_applies_both_law_changes_to_every_case(
    bench_env: dict[str, str],
) -> None:
    report = run(bench_env, "reevaluation", "--cases", "12", "--workers", "2")
    assert report["data"]["events"] >= 12 * 6  # 6 to 14 steps of a file a case
    # The data stores what an evaluation gives: the same version again changes nothing.
    assert (report["first"]["done"], report["first"]["changed"]) == (12, 0)
    # Every case evaluated (a moved review horizon is not narrowed: test_reevaluation_narrowing),
    # the cases with a registration see their OFPRA limit move.
    assert report["law_change"]["done"] == 12
    assert report["law_change"]["changed"] > 0
    assert report["narrow_change"]["done"] == 12  # all stamped, the few reached evaluated
    assert report["narrow_change"]["changed"] <= report["data"]["narrow_reach"] < 12
    assert report["law_change"]["cpu_ms_per_case"] > 0


def test_the_benchmarks_leave_no_database_behind(bench_env: dict[str, str]) -> None:
    leftovers = sorted(p.name for p in Path(bench_env["BENCH_OUT_DIR"]).glob("*-*.sqlite3*"))
    assert leftovers == []


@pytest.mark.django_db
def test_bulk_copies_store_what_an_evaluation_of_their_events_gives(asylum_pack: Any) -> None:
    from benchmarks.data import populate

    population = populate(12, templates=3, caseworkers=2)
    assert population.cases == 12
    assert population.events == CaseEvent.objects.count() > 12
    published = published_version(asylum_pack.pack.key)
    copies = Case.objects.filter(reference__startswith="B-").select_related("procedure")
    assert copies.count() == 9
    for case in copies:
        results = actions.evaluate_case(case, published)
        changes = actions.deadline_changes(case, results, list(case.deadlines.all()), published)
        assert (changes.created, changes.changed, changes.deleted) == ([], [], []), case
    assert Deadline.objects.filter(case__in=copies).exists()
    # Sequences were reset: the app's next writes get fresh ids.
    assert (
        Case.objects.create(
            organisation_id=population.organisation_id,
            reference="after",
            applicant_name="x",
            department="54",
            procedure=asylum_pack.pack,
            assigned_to_id=population.caseworker_ids[0],
        ).pk
        > population.last_case_id
    )


def test_the_summary_gives_each_page_of_the_dashboard_report_against_its_target() -> None:
    from benchmarks.__main__ import dashboard_rows

    # The shape benchmarks/dashboard.py writes to .run/bench/dashboard.json (one database).
    report = {
        "result": {
            "database": "PostgreSQL",
            "pages": [
                {"key": "caseworker", "label": "dashboard, caseworker", "stats": {"p95_us": 52e3}},
                {"key": "csv", "label": "  CSV export", "stats": {"p95_us": 382e3}},
            ],
        }
    }
    assert dashboard_rows(report) == [
        ("pages (PostgreSQL): dashboard, caseworker p95", "< 150 ms", "52 ms", "0.35"),
        ("pages (PostgreSQL): CSV export p95", "< 150 ms", "382 ms", "2.55 MISSED"),
    ]
