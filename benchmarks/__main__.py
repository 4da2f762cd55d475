"""`python -m benchmarks` (`make bench`): every benchmark, then one table of figures and targets.

Each benchmark runs in a process of its own (Django is set up once per process, each on a
throwaway database of its own: benchmarks/db.py), in this order: the rules engine, the API
under gunicorn (and memory over recompiles), the alerts, the caseworkers' pages, the
re-evaluation after a law change. Each prints its own report and writes .run/bench/<name>.json;
the summary at the end reads those written by this run.

PostgreSQL: BENCH_DATABASE_URL (else DATABASE_URL) names the server; SQLite otherwise.
BENCH_CASES sets the number of cases of the alerts and re-evaluation benchmarks (their own
defaults otherwise). `python -m benchmarks engine api` runs only those.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = Path(os.environ.get("BENCH_OUT_DIR") or ROOT / ".run" / "bench")

BENCHMARKS = ("engine", "api", "alerts", "dashboard", "reevaluation")
SIZED = ("alerts", "reevaluation")  # accept --cases


def command(name: str) -> list[str]:
    args = [sys.executable, "-m", f"benchmarks.{name}"]
    cases = os.environ.get("BENCH_CASES", "")
    if cases and name in SIZED:
        args += ["--cases", cases]
    return args


# --- the summary -------------------------------------------------------------------------------

Row = tuple[str, str, str, str]


def _load(name: str, since: float) -> dict[str, Any] | None:
    path = OUT_DIR / f"{name}.json"
    if not path.exists() or path.stat().st_mtime < since:
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return data


def _ratio(measured: float, target: float, *, higher_is_better: bool = False) -> str:
    """measured / target for an upper bound; target / measured for a floor (≤ 1 is met)."""
    if not measured or not target:
        return "-"
    value = target / measured if higher_is_better else measured / target
    return f"{value:.2f}" + ("" if value <= 1 else " MISSED")


def engine_rows(report: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    main = report["cases"][0]
    median = main["evaluate"]["median_us"]
    rows.append(
        (
            "engine: evaluate, full timeline (median)",
            "< 1,000 µs",
            f"{median:,.0f} µs",
            _ratio(median, 1000),
        )
    )
    if main.get("ratio_evaluate_to_host"):
        ratio = main["ratio_evaluate_to_host"]
        rows.append(
            (
                "engine: evaluate / bare durable_rules Host",
                "≤ 3x",
                f"{ratio:.1f}x",
                _ratio(ratio, 3),
            )
        )
    ratio = main["ratio_evaluate_to_match"]
    rows.append(
        ("engine: evaluate / our wrapper's bare match()", "≤ 3x", f"{ratio:.1f}x", _ratio(ratio, 3))
    )
    repeated = report.get("repeated") or []
    if len(repeated) >= 2:
        first, last = repeated[-2], repeated[-1]
        growth = last["evaluate_us_per_event"] / first["evaluate_us_per_event"]
        per_event = " / ".join(f"{r['evaluate_us_per_event']:.1f}" for r in repeated)
        counts = "/".join(f"{r['events']:,}" for r in repeated)
        rows.append(
            (
                f"engine: µs per event, {counts} events of one type",
                "linear (flat per event)",
                per_event,
                f"{growth:.2f} ({last['events']:,} / {first['events']:,} per event)",
            )
        )
        for r in repeated:
            if r.get("ratio_evaluate_to_host"):
                rows.append(
                    (
                        f"engine: {r['events']:,} events, evaluate / bare Host",
                        "≤ 3x",
                        f"{r['ratio_evaluate_to_host']:.1f}x "
                        f"({r['evaluate']['median_us'] / 1000:.1f} ms)",
                        _ratio(r["ratio_evaluate_to_host"], 3),
                    )
                )
    service = report.get("service") or {}
    if service.get("evaluate_request"):
        value = service["evaluate_request"]["median_us"]
        rows.append(
            ("engine: evaluate_request through Django (SQLite)", "—", f"{value:,.0f} µs", "-")
        )
    return rows


def api_rows(report: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for level in report["throughput"]["levels"]:
        per_s = level["per_s"]
        rows.append(
            (
                f"API: POST /api/v1/evaluate, gunicorn x{report['workers']}, "
                f"concurrency {level['concurrency']}",
                "≥ 500 req/s",
                f"{per_s:,.0f} req/s"
                + (f" ({level['not_200']} not 200)" if level["not_200"] else ""),
                _ratio(per_s, 500, higher_is_better=True),
            )
        )
    memory = report.get("memory")
    if memory:
        rss = {int(k): int(v) for k, v in memory["rss_kb"].items()}
        marks = " / ".join(f"{v / 1024:.1f}" for v in rss.values())
        keys = "/".join(str(k) for k in rss)
        last = max(rss)
        half = rss[last] - rss.get(last // 2, rss[min(rss)])
        rows.append(
            (
                f"web worker RSS (MB) after {keys} recompiles",
                "flat",
                f"{marks} (second half {half / 1024:+.1f} MB)",
                "-",
            )
        )
    return rows


def alerts_rows(report: dict[str, Any]) -> list[Row]:
    plan, frequent = report["plan"], report["frequent"]
    rows: list[Row] = [
        (
            "alerts: alert rows per open case",
            "~5 (real cases)",
            f"{plan['rows_per_open_case']:.1f}",
            "-",
        ),
        (
            f"alerts: frequent run ({frequent['changed_cases']:,} changed cases)",
            "a small fraction of a core",
            f"{100 * frequent['core_share']:.2f}% of a core",
            "-",
        ),
        (
            "alerts: daily sweep, 100,000 cases (extrapolated)",
            "—",
            f"~{plan['sweep_100k_seconds']:,.0f} s",
            "-",
        ),
    ]
    send = report.get("send")
    if send:
        rows.append(
            ("alerts: sent through Redis and a worker", "—", f"{send['sent_per_second']:,}/s", "-")
        )
    return rows


def dashboard_rows(report: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    result = report.get("result") or {}  # one database a run (benchmarks/dashboard.py)
    for page in result.get("pages", []):
        stats = page.get("stats") or {}
        p95_ms = stats.get("p95_us", 0) / 1000
        label = str(page.get("label", page.get("key"))).strip()
        rows.append(
            (
                f"pages ({result.get('database', '?')}): {label} p95",
                "< 150 ms",
                f"{p95_ms:,.0f} ms",
                _ratio(p95_ms, 150),
            )
        )
    return rows


def reevaluation_rows(report: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    cases = report.get("cases", 0)
    events = (report.get("data") or {}).get("events", 0)
    workers = report.get("workers", 2)
    for name, what in (("law_change", "every case feels"), ("narrow_change", "a narrow change")):
        law = report.get(name) or {}
        if "extrapolated_100k_seconds" not in law:
            continue
        value = law["extrapolated_100k_seconds"]
        rows.append(
            (
                f"re-evaluation of 100,000 open cases, {what}, {workers} workers "
                f"(from {cases:,} cases, {events / max(1, cases):.1f} events a case)",
                "< 60 s",
                f"~{value:,.0f} s",
                _ratio(value, 60),
            )
        )
    return rows


SUMMARIES: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "engine": engine_rows,
    "api": api_rows,
    "alerts": alerts_rows,
    "dashboard": dashboard_rows,
    "reevaluation": reevaluation_rows,
}


def summary(names: list[str], since: float) -> list[Row]:
    rows: list[Row] = []
    for name in names:
        report = _load(name, since)
        if report is None:
            continue
        try:
            rows += SUMMARIES[name](report)
        except (KeyError, TypeError, IndexError, ValueError) as error:  # another format: say so
            rows.append((f"{name}: (figures not understood: {error!r})", "", "", ""))
    return rows


def print_summary(rows: list[Row], statuses: dict[str, int]) -> None:
    from benchmarks.engine import machine_facts

    m = machine_facts()
    print("\nSummary (ratio: measured / target for a ceiling, target / measured for a floor;")
    print("≤ 1 is met)")
    print(
        f"  machine: {m['cpu']}, {m['usable_cpus']} usable CPUs, {m['reference_loop_ms']} ms for a"
    )
    print(
        "  million Python additions (compare figures across machines by it); load average now ",
        end="",
    )
    print(", ".join(f"{x:.1f}" for x in m["load_average"] or ()), "(1, 5, 15 min)")
    print("\n| measure | target | measured | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    failed = [name for name, code in statuses.items() if code]
    if failed:
        print(f"\nExited with an error: {', '.join(failed)} (see their output above)")


def main(argv: list[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    since = time.time()
    statuses: dict[str, int] = {}
    for name in names:
        print(f"\n=== benchmarks.{name} ===", flush=True)
        statuses[name] = subprocess.run(command(name), cwd=ROOT, check=False).returncode
    print_summary(summary(names, since), statuses)
    return 1 if any(statuses.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
