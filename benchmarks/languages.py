"""What the second language costs: one case's result in French and English, against one language.

A stored case keeps its result in every site language (fr and en), so every case write and every
case of a re-evaluation after a law change calls evaluate_languages(compiled, case, ["fr", "en"]).
This times it against evaluate(compiled, case) (the case's own language, one result) on the
shipped published pack version (v2): the full timeline of benchmarks/engine.py and three typical
shipped scenarios of 2 to 4 events. The two calls are timed alternately, run after run, so that
other work on the machine weighs on both alike.

    python -m benchmarks.languages [--quick] [--profile]

--profile prints where the two-language call spends its time (cProfile, full timeline). The same
figures are written to .run/bench/languages.json.
"""

from __future__ import annotations

import copy
import cProfile
import datetime as dt
import gc
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.engine import FULL_TIMELINE, PACK_DIR, WARMUP, Stats, _row, machine_facts
from rules.engine.evaluate import CompiledPack, compile_pack, evaluate, evaluate_languages
from rules.engine.inputs import CaseFacts, parse_case
from rules.engine.pack import parse_pack

ROOT = Path(__file__).resolve().parents[1]
PACK_FILE = PACK_DIR / "pack.json"
OUT_DIR = Path(os.environ.get("BENCH_OUT_DIR") or ROOT / ".run" / "bench")
OUT_FILE = OUT_DIR / "languages.json"

LANGUAGES = ("fr", "en")
RUNS = 3_000
# Typical cases: a presentation and a decision; a legal-aid suspension; a warning that fires.
TYPICAL = (
    "01-api-example",
    "35-legal-aid-spec-example-2026",
    "48-review-horizon-event-on-12-june-2026",
)


def load_case(compiled: CompiledPack, payload: dict[str, Any]) -> CaseFacts:
    today = dt.date.fromisoformat(payload["as_of"])
    departments = frozenset(compiled.departments_on(today))
    return parse_case(payload, compiled.definition, departments, today)


def cases(compiled: CompiledPack) -> list[tuple[str, CaseFacts]]:
    found = [("full-timeline", load_case(compiled, copy.deepcopy(FULL_TIMELINE)))]
    for name in TYPICAL:
        scenario = json.loads((PACK_DIR / "scenarios" / f"{name}.json").read_text("utf-8"))
        found.append((name, load_case(compiled, scenario["request"])))
    return found


def measure_alternately(
    runs: dict[str, Callable[[], object]],
    count: int,
    warmup: int = WARMUP,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> dict[str, Stats]:
    """Time each call separately, the calls taking turns, after `warmup` untimed rounds."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    gc.collect()
    samples: dict[str, list[int]] = {name: [0] * count for name in runs}
    for i in range(count):
        for name, run in runs.items():
            start = clock()
            run()
            samples[name][i] = clock() - start
    return {name: Stats.of(found) for name, found in samples.items()}


def bench_case(
    compiled: CompiledPack,
    name: str,
    case: CaseFacts,
    count: int,
    warmup: int = WARMUP,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> dict[str, Any]:
    languages = list(LANGUAGES)
    figures = measure_alternately(
        {
            "one_language": lambda: evaluate(compiled, case),
            "two_languages": lambda: evaluate_languages(compiled, case, languages),
        },
        count,
        warmup,
        clock,
    )
    one, two = figures["one_language"], figures["two_languages"]
    return {
        "case": name,
        "events": len(case.events),
        "deadlines": len(evaluate(compiled, case)["deadlines"]),
        **figures,
        "second_language_us": two.median_us - one.median_us,
        "ratio_two_to_one": two.median_us / one.median_us,
    }


def profile(compiled: CompiledPack, case: CaseFacts, count: int, top: int = 30) -> str:
    languages = list(LANGUAGES)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        evaluate_languages(compiled, case, languages)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    print("Evaluation in two languages")
    print(f"  CPU       {m['cpu']} ({m['logical_cpus']} logical CPUs, {m['usable_cpus']} usable)")
    print(f"  Speed     {m['reference_loop_ms']} ms for a million Python additions (reference)")
    print(f"  Python    {m['python']}; durable_rules {m['durable_rules']}")
    if m["load_average"]:
        load = ", ".join(f"{x:.2f}" for x in m["load_average"])
        print(f"  Load      {load} (1, 5, 15 min, at start)")
    print(
        f"  Pack      {PACK_FILE.relative_to(ROOT)}; {report['runs']:,} runs of each, alternately,"
        f" after a warm-up; gc on; {report['clock']} in µs"
    )
    widths = (42, 7, 10, 9, 11, 10, 9, 7)
    head = ("case", "events", "1 lang", "p95", "fr+en", "p95", "2nd lang", "ratio")
    print(_row(head, widths))
    for f in report["cases"]:
        one: Stats = f["one_language"]
        two: Stats = f["two_languages"]
        print(
            _row(
                (
                    f["case"],
                    str(f["events"]),
                    f"{one.median_us:,.1f}",
                    f"{one.p95_us:,.1f}",
                    f"{two.median_us:,.1f}",
                    f"{two.p95_us:,.1f}",
                    f"{f['second_language_us']:,.1f}",
                    f"{f['ratio_two_to_one']:.2f}x",
                ),
                widths,
            )
        )
    print("  1 lang: evaluate(compiled, case); fr+en: evaluate_languages(compiled, case, [fr, en])")
    print("  (medians); 2nd lang: the difference of the medians.")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Stats):
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in vars(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Evaluation in two languages against one.")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test only)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of fr+en")
    parser.add_argument(
        "--cpu", action="store_true", help="this thread's CPU time, not wall time (busy machine)"
    )
    args = parser.parse_args(argv)
    runs, warmup = (10, 2) if args.quick else (RUNS, WARMUP)
    clock = time.thread_time_ns if args.cpu else time.perf_counter_ns
    compiled = compile_pack(parse_pack(json.loads(PACK_FILE.read_text(encoding="utf-8"))))
    report: dict[str, Any] = {
        "machine": machine_facts(),
        "runs": runs,
        "clock": "thread CPU time" if args.cpu else "wall time",
        "cases": [],
    }
    for name, case in cases(compiled):
        print(f"… {name}", file=sys.stderr, flush=True)
        report["cases"].append(bench_case(compiled, name, case, runs, warmup, clock))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(
        json.dumps(_jsonable(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print_report(report)
    if args.profile:
        print("\ncProfile of evaluate_languages(fr, en), full timeline, by own time:")
        print(profile(compiled, cases(compiled)[0][1], 10 if args.quick else 2_000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
