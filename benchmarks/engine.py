"""How fast the rules engine is on this machine: a script that prints figures, not a test.

1. compiling the shipped pack (parse_pack, compile_pack);
2. evaluating one case with the pure engine (evaluate), alone and with parse_case in front;
3. the same facts posted to a bare durable_rules ruleset with the same conditions: through
   durable's own public Host API (no-op actions), and through our wrapper's
   CompiledRuleset.match (matching only, no date arithmetic);
4. the service path, rules.services.evaluate_request, through Django on a throwaway SQLite file;
5. throughput of several threads evaluating at once;
6. one case with 50, 500 and 5,000 events of one type: evaluate and the bare Host on the same
   facts, per event (the API accepts at most 500 events: the 5,000 are given to the engine as
   parsed facts, ten parsed blocks of 500).

Each figure is the median and p95 of time.perf_counter_ns taken around every single run, after a
warm-up, with the garbage collector left on as in production. The same figures are written to
.run/bench/engine.json.

The bare figures need the rule definitions and the fact batches exactly as the engine produced
them, and the engine keeps neither: they are recorded by wrapping
durable_rules_engine.create_ruleset and Session.assert_facts with unittest.mock.patch.object for
one compile and one evaluation per case (restored at once; product code is not changed).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import gc
import io
import itertools
import json
import math
import os
import platform
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from unittest import mock

import durable_rules_engine
from durable.engine import Host, MessageNotHandledException

from rules.engine.durable import INIT_RULE, MAX_LIVE_SESSIONS, Match, Session
from rules.engine.evaluate import CompiledPack, compile_pack, evaluate
from rules.engine.inputs import CaseFacts, parse_case
from rules.engine.pack import PackDefinition, parse_pack

ROOT = Path(__file__).resolve().parents[1]
PACK_KEY = "asylum-reexamination"


def newest_shipped(folder: Path) -> Path:
    """The folder of the newest shipped version of a pack (`v<n>/`, else the pack's own): the
    version `loadrulepack` publishes, so the one the service path evaluates with."""
    numbered = [p.parent for p in folder.glob("v*/pack.json") if p.parent.name[1:].isdigit()]
    return max(numbered, key=lambda p: int(p.name[1:]), default=folder)


PACK_DIR = newest_shipped(ROOT / "rules" / "packs" / PACK_KEY)
PACK_FILE = PACK_DIR / "pack.json"
SCENARIOS = PACK_DIR / "scenarios"
OUT_DIR = Path(os.environ.get("BENCH_OUT_DIR") or ROOT / ".run" / "bench")
OUT_FILE = OUT_DIR / "engine.json"
DB_FILE = OUT_DIR / "bench.sqlite3"

COMPILES = 20
WARMUP = 500
RUNS_MAIN = 5_000  # the full-timeline case
RUNS_OTHER = 2_000  # each of the richest shipped scenarios
RUNS_SERVICE = 2_000
THREADS = 4
THREAD_SECONDS = 2.0
SINGLE_THREAD_SECONDS = 1.0
TARGET_MEDIAN_US = 1_000.0
EVENT_COUNTS: tuple[int, ...] = (50, 500, 5_000)
REPEATED_TYPE = "prefecture_presentation"
MAX_PARSED_EVENTS = 500  # what parse_case accepts
RUNS_REPEATED = 10  # at least, per size
TARGET_RATIO = 3.0

# A whole re-examination file, from the final rejection to the CNDA appeal: every event type up to
# the appeal, so that all nine deadlines, both milestone-driven ones included, are computed.
FULL_TIMELINE: dict[str, Any] = {
    "procedure": PACK_KEY,
    "department": "54",
    "previous_reexaminations": 0,
    "as_of": "2026-06-01",
    "events": [
        {"type": "final_rejection", "date": "2025-11-14"},
        {"type": "prefecture_presentation", "date": "2026-01-05"},
        {"type": "registration", "date": "2026-01-08"},
        {"type": "attestation_issued", "date": "2026-01-08"},
        {"type": "ofpra_submission", "date": "2026-01-13"},
        {"type": "ofpra_incomplete_notice", "date": "2026-01-15"},
        {"type": "ofpra_file_completed", "date": "2026-01-19"},
        {"type": "ofpra_admissibility_decision", "date": "2026-01-20", "outcome": "admissible"},
        {"type": "ofpra_decision", "date": "2026-02-20", "outcome": "rejected"},
        {"type": "decision_made_available", "date": "2026-02-23"},
        {"type": "decision_notified", "date": "2026-03-02"},
        {"type": "legal_aid_requested", "date": "2026-03-10"},
        {"type": "legal_aid_decision_notified", "date": "2026-05-04"},
        {"type": "cnda_appeal_filed", "date": "2026-05-20"},
    ],
    "new_elements": [
        {"date": "2025-12-01", "known_on": "2025-12-10", "description": "arrest warrant"},
    ],
}

Batches = list[list[dict[str, Any]]]


# --- measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Timings of many runs of one operation, in microseconds."""

    runs: int
    median_us: float
    p95_us: float
    mean_us: float
    min_us: float

    @classmethod
    def of(cls, samples_ns: Sequence[int]) -> Stats:
        ordered = sorted(samples_ns)
        p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank
        return cls(
            runs=len(ordered),
            median_us=statistics.median(ordered) / 1000,
            p95_us=p95 / 1000,
            mean_us=statistics.fmean(ordered) / 1000,
            min_us=ordered[0] / 1000,
        )


def measure(run: Callable[[], object], runs: int, warmup: int = WARMUP) -> Stats:
    """Time each of `runs` calls separately, after `warmup` untimed calls."""
    for _ in range(warmup):
        run()
    gc.collect()
    clock = time.perf_counter_ns
    samples = [0] * runs
    for i in range(runs):
        start = clock()
        run()
        samples[i] = clock() - start
    return Stats.of(samples)


# --- machine ----------------------------------------------------------------------------------


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


@functools.cache
def reference_loop_ms() -> float:
    """Milliseconds this process takes for a fixed pure-Python loop (a million additions, best of
    three). Machines under the same CPU name differ: two 2-vCPU "AMD EPYC" machines of this
    project served the API at ~500 and ~240 requests a second (concurrency 1, the same code) on
    two days; every report carries this figure, to compare figures across machines."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 1)


def machine_facts() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "durable_rules": _package_version("durable_rules"),
        "django": _package_version("Django"),
        "sqlite": sqlite3.sqlite_version,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "reference_loop_ms": reference_loop_ms(),
    }


# --- recording what the engine gives durable_rules --------------------------------------------


def compile_recording(pack: PackDefinition) -> tuple[CompiledPack, dict[str, Any]]:
    """Compile a pack and return the ruleset definition the engine handed to durable_rules."""
    definitions: dict[str, dict[str, Any]] = {}
    create = durable_rules_engine.create_ruleset

    def record(name: str, text: str) -> Any:
        definitions[name] = json.loads(text)
        return create(name, text)

    with mock.patch.object(durable_rules_engine, "create_ruleset", record):
        compiled = compile_pack(pack)
    return compiled, definitions[compiled.ruleset.name]


def evaluate_recording(compiled: CompiledPack, case: CaseFacts) -> tuple[Batches, int]:
    """Evaluate once; return the fact batches the engine asserted and how many rules fired."""
    batches: Batches = []
    fired = 0
    assert_facts = Session.assert_facts

    def record(self: Session, facts: Sequence[dict[str, Any]]) -> list[Match]:
        nonlocal fired
        batches.append(copy.deepcopy(list(facts)))
        matches = assert_facts(self, facts)
        fired += len(matches)
        return matches

    with mock.patch.object(Session, "assert_facts", record):
        evaluate(compiled, case)
    return batches, fired


@dataclass
class BenchCase:
    name: str
    payload: dict[str, Any]
    case: CaseFacts
    departments: frozenset[str]
    today: dt.date
    batches: Batches
    fired: int

    @property
    def facts(self) -> list[dict[str, Any]]:
        return [fact for batch in self.batches for fact in batch]

    def parse(self, pack: PackDefinition) -> CaseFacts:
        return parse_case(self.payload, pack, self.departments, self.today)


def bench_case(name: str, payload: dict[str, Any], compiled: CompiledPack) -> BenchCase:
    today = dt.date.fromisoformat(payload["as_of"])
    departments = frozenset(compiled.departments_on(today))
    case = parse_case(payload, compiled.definition, departments, today)
    batches, fired = evaluate_recording(compiled, case)
    return BenchCase(name, payload, case, departments, today, batches, fired)


def richest_scenarios(compiled: CompiledPack) -> list[BenchCase]:
    """The richest shipped scenarios: the two with the most facts, then the richest legal-aid
    and CNDA ones (ties: the most rules fired, then the name)."""
    cases = []
    for path in sorted(SCENARIOS.glob("*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))["request"]
        cases.append(bench_case(path.stem, payload, compiled))
    cases.sort(key=lambda c: (-len(c.facts), -c.fired, c.name))
    chosen = cases[:2]
    for family in ("legal-aid", "cnda"):
        chosen += [c for c in cases if family in c.name and c not in chosen][:1]
    return chosen


# --- bare durable_rules -----------------------------------------------------------------------


class QuietHost(Host):
    """durable's Host without its background timer threads: actions run inside the assert call."""

    def _run(self) -> None:
        pass


def _noop(closure: Any) -> None:
    pass


def _mark_ready(closure: Any) -> None:
    # The engine's internal rule fires on the state fact until the marker is set.
    closure.s.ready = 1


class BareRuleset:
    """The engine's rule definitions registered through durable's public Host API.

    Every rule gets a no-op action (counting ones with count=True); the engine's internal init
    rule keeps its marker action, without which it would re-fire forever.
    """

    _names = itertools.count(1)

    def __init__(self, definition: dict[str, Any], *, count: bool = False) -> None:
        self.actions = 0
        rules = copy.deepcopy(definition)  # register_rulesets removes every "run" it is given
        for rule_name, rule in rules.items():
            if rule_name == INIT_RULE:
                rule["run"] = _mark_ready
            else:
                rule["run"] = self._count if count else _noop
        self.name = f"bench-bare-{next(self._names)}"
        self.host = QuietHost()
        self.host.register_rulesets({self.name: rules})
        self._sids = itertools.count(1)

    def _count(self, closure: Any) -> None:
        self.actions += 1

    def post(self, batches: Batches) -> int:
        """Assert the batches with a fresh sid, then delete it; return the unhandled batches."""
        sid = f"bare-{next(self._sids)}"
        unhandled = 0
        fact_ids = itertools.count(1)
        for batch in batches:
            facts = [{**fact, "sid": sid, "id": f"f{next(fact_ids)}"} for fact in batch]
            try:
                self.host.assert_facts(self.name, facts)
            except MessageNotHandledException:
                unhandled += 1  # durable ran no action for this batch
        self.host.delete_state(self.name, sid)
        return unhandled

    def warm(self, handled: list[dict[str, Any]]) -> None:
        """Run actions in fresh sessions before any batch that durable may leave unhandled.

        delete_state on a state slot where no action ever ran reads uninitialised memory and
        kills the process (README: durable_rules); a batch in which one fact matches no
        rule runs no action, so the slots are first used with facts that all match.
        """
        for i in range(MAX_LIVE_SESSIONS + 16):
            sid = f"warm-{i}"
            facts = [{**fact, "sid": sid, "id": f"f{n}"} for n, fact in enumerate(handled, 1)]
            try:
                self.host.assert_facts(self.name, facts)
            except MessageNotHandledException:
                # No action ran: deleting this session would crash the process, so leave it.
                raise RuntimeError("durable_rules left the warm-up facts unhandled") from None
            self.host.delete_state(self.name, sid)


def handled_facts(compiled: CompiledPack, case: BenchCase) -> list[dict[str, Any]]:
    """Facts that all match some rule: those the first firing rule matched."""
    for _, matched in compiled.ruleset.match(case.facts):
        return list(matched.values())
    raise RuntimeError(f"{case.name}: no rule fires")


# --- the benchmarks ---------------------------------------------------------------------------


def bench_compile(pack_text: str) -> dict[str, Any]:
    loads: list[int] = []
    parses: list[int] = []
    compiles: list[int] = []
    totals: list[int] = []
    first: dict[str, float] = {}
    rules = 0
    clock = time.perf_counter_ns
    for i in range(COMPILES + 1):
        start = clock()
        raw = json.loads(pack_text)
        loaded = clock()
        pack = parse_pack(raw)
        parsed = clock()
        compiled = compile_pack(pack)  # registers a new ruleset name each time
        done = clock()
        if i == 0:  # the first in the process also builds calendars and imports lazily
            first = {"total_ms": (done - start) / 1e6}
            rules = compiled.rules_compiled
            continue
        loads.append(loaded - start)
        parses.append(parsed - loaded)
        compiles.append(done - parsed)
        totals.append(done - start)
    return {
        "rules": rules,
        "first_in_process": first,
        "json_loads": Stats.of(loads),
        "parse_pack": Stats.of(parses),
        "compile_pack": Stats.of(compiles),
        "total": Stats.of(totals),
    }


def bench_evaluation(
    compiled: CompiledPack, definition: dict[str, Any], case: BenchCase, runs: int
) -> dict[str, Any]:
    pack = compiled.definition
    facts = case.facts
    figures: dict[str, Any] = {
        "case": case.name,
        "events": len(case.case.events),
        "new_elements": len(case.case.new_elements),
        "facts": len(facts),
        "batches": len(case.batches),
        "rules_fired": case.fired,
        "evaluate": measure(lambda: evaluate(compiled, case.case), runs),
        "parse_and_evaluate": measure(lambda: evaluate(compiled, case.parse(pack)), runs),
    }
    try:
        counting = BareRuleset(definition, count=True)
        counting.warm(handled_facts(compiled, case))
        counting.actions = 0
        unhandled = counting.post(case.batches)
        bare = BareRuleset(definition)
        bare.warm(handled_facts(compiled, case))
        figures["host"] = measure(lambda: bare.post(case.batches), runs)
        figures["host_actions_run"] = counting.actions
        figures["host_unhandled_batches"] = unhandled
    except RuntimeError as error:  # never risk the native crash; report instead
        figures["host"] = None
        figures["host_skipped"] = str(error)
    figures["match"] = measure(lambda: compiled.ruleset.match(facts), runs)
    median = figures["evaluate"].median_us
    figures["ratio_evaluate_to_host"] = (
        median / figures["host"].median_us if figures["host"] else None
    )
    figures["ratio_evaluate_to_match"] = median / figures["match"].median_us
    return figures


def setup_django() -> None:
    """Configure Django on a fresh throwaway SQLite file (deleted afterwards), DEBUG off."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    for name in ("DATABASE_URL", "DJANGO_DEBUG"):
        os.environ.pop(f"{name}_FILE", None)  # a NAME_FILE would win over NAME
    os.environ["DATABASE_URL"] = f"sqlite:///{DB_FILE}"
    # With DEBUG on, Django also keeps every query it runs; production runs with it off.
    os.environ["DJANGO_DEBUG"] = "false"
    if not os.environ.get("DJANGO_SECRET_KEY") and not os.environ.get("DJANGO_SECRET_KEY_FILE"):
        os.environ["DJANGO_SECRET_KEY"] = "benchmark-only-" + os.urandom(16).hex()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()


def bench_service(case: BenchCase, compiled: CompiledPack) -> dict[str, Any]:
    setup_django()
    from django.core.management import call_command
    from django.db import connections

    from rules import services

    clock = time.perf_counter_ns
    start = clock()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("loadrulepack", stdout=io.StringIO())
    setup_s = (clock() - start) / 1e9

    payload = case.payload
    expected = evaluate(compiled, case.case)
    got = services.evaluate_request(copy.deepcopy(payload))
    if got["deadlines"] != expected["deadlines"]:
        raise RuntimeError("evaluate_request and evaluate disagree on the full timeline")
    figures = {
        "database": "sqlite (throwaway file, fresh migrate + loadrulepack)",
        "setup_s": setup_s,
        "evaluate_request": measure(lambda: services.evaluate_request(payload), RUNS_SERVICE),
        "published_version_query": measure(
            lambda: services.published_version(PACK_KEY), RUNS_SERVICE
        ),
    }
    connections.close_all()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    return figures


def throughput(compiled: CompiledPack, case: CaseFacts, threads: int, seconds: float) -> float:
    """Evaluations per second of `threads` threads evaluating the same case for `seconds`."""
    counts = [0] * threads
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)

    def work(index: int) -> None:
        barrier.wait()
        end = time.perf_counter() + seconds
        done = 0
        try:
            while time.perf_counter() < end:
                evaluate(compiled, case)
                done += 1
        except BaseException as error:
            errors.append(error)
        counts[index] = done

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} threads failed") from errors[0]
    return sum(counts) / elapsed


def bench_threads(compiled: CompiledPack, case: CaseFacts) -> dict[str, Any]:
    evaluate(compiled, case)
    single = throughput(compiled, case, 1, SINGLE_THREAD_SECONDS)
    many = throughput(compiled, case, THREADS, THREAD_SECONDS)
    return {
        "threads": THREADS,
        "seconds": THREAD_SECONDS,
        "single_thread_per_s": single,
        "total_per_s": many,
        "per_thread_per_s": many / THREADS,
        "scaling": many / single,
    }


def repeated_case(compiled: CompiledPack, count: int) -> BenchCase:
    """One case with `count` events of one type (dates over two years, so some coincide)."""
    start = dt.date(2024, 1, 1)
    blocks = []
    for first in range(0, count, MAX_PARSED_EVENTS):
        payload = {k: v for k, v in FULL_TIMELINE.items() if k != "events"}
        payload["events"] = [
            {"type": REPEATED_TYPE, "date": (start + dt.timedelta(days=i % 700)).isoformat()}
            for i in range(first, min(count, first + MAX_PARSED_EVENTS))
        ]
        blocks.append(bench_case(f"{count} x {REPEATED_TYPE}", payload, compiled))
    if len(blocks) == 1:
        return blocks[0]
    events = tuple(event for block in blocks for event in block.case.events)
    case = dataclasses.replace(blocks[0].case, events=events)
    batches, fired = evaluate_recording(compiled, case)
    head = blocks[0]
    return BenchCase(head.name, head.payload, case, head.departments, head.today, batches, fired)


def bench_repeated(compiled: CompiledPack, definition: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for count in EVENT_COUNTS:
        _progress(f"{count:,} events of one type")
        case = repeated_case(compiled, count)
        runs = max(RUNS_REPEATED, 20_000 // count)
        figures: dict[str, Any] = {
            "events": count,
            "facts": len(case.facts),
            "runs": runs,
            "evaluate": measure(partial(evaluate, compiled, case.case), runs, 3),
        }
        try:
            bare = BareRuleset(definition)
            bare.warm(handled_facts(compiled, case))
            figures["host"] = measure(partial(bare.post, case.batches), runs, 3)
        except RuntimeError as error:
            figures["host"] = None
            figures["host_skipped"] = str(error)
        e, h = figures["evaluate"], figures["host"]
        figures["evaluate_us_per_event"] = e.median_us / count
        figures["host_us_per_event"] = h.median_us / count if h else None
        figures["ratio_evaluate_to_host"] = e.median_us / h.median_us if h else None
        rows.append(figures)
    return rows


# --- printing ---------------------------------------------------------------------------------


def _us(value: float) -> str:
    return f"{value:,.1f}"


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    first, *rest = cells
    return (
        "  "
        + first.ljust(widths[0])
        + "".join(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))
    )


def _short(name: str, width: int = 31) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    print("Rules engine benchmark")
    print(f"  CPU       {m['cpu']} ({m['logical_cpus']} logical CPUs, {m['usable_cpus']} usable)")
    print(f"  Speed     {m['reference_loop_ms']} ms for a million Python additions (reference)")
    print(f"  Platform  {m['platform']}")
    print(
        f"  Python    {m['python']}; durable_rules {m['durable_rules']}; Django {m['django']}; "
        f"SQLite {m['sqlite']}"
    )
    if m["load_average"]:
        load = ", ".join(f"{x:.2f}" for x in m["load_average"])
        print(f"  Load      {load} (1, 5, 15 min, at start: other work on the machine adds noise)")
    print("  Timing    time.perf_counter_ns around each run, after a warm-up; gc on; figures in µs")

    c = report["compile"]
    print(
        f"\n1. Compile the shipped pack ({PACK_FILE.relative_to(ROOT)}, {c['rules']} rules), "
        f"median of {COMPILES}"
    )
    widths: tuple[int, ...] = (22, 12, 12)
    print(_row(("step", "median ms", "p95 ms"), widths))
    for key in ("json_loads", "parse_pack", "compile_pack", "total"):
        step: Stats = c[key]
        print(_row((key, f"{step.median_us / 1000:.2f}", f"{step.p95_us / 1000:.2f}"), widths))
    print(f"  (the first compile in the process took {c['first_in_process']['total_ms']:.1f} ms)")

    print("\n2. One evaluation with the pure engine: evaluate(compiled, case), case parsed once")
    widths = (32, 6, 6, 9, 9, 9, 11, 11)
    print(
        _row(("case", "facts", "fired", "median", "p95", "min", "+parse med", "+parse p95"), widths)
    )
    for f in report["cases"]:
        e: Stats = f["evaluate"]
        p: Stats = f["parse_and_evaluate"]
        print(
            _row(
                (
                    _short(f["case"]),
                    str(f["facts"]),
                    str(f["rules_fired"]),
                    _us(e.median_us),
                    _us(e.p95_us),
                    _us(e.min_us),
                    _us(p.median_us),
                    _us(p.p95_us),
                ),
                widths,
            )
        )
    print(f"  runs: {RUNS_MAIN:,} (full timeline), {RUNS_OTHER:,} (each shipped scenario);")
    print("  min: fastest run; +parse: parse_case (input validation) then evaluate.")
    print("  full-timeline: every event type up to a CNDA appeal, one new element; the others are")
    print("  the shipped scenarios with the most facts, and the richest legal-aid and CNDA ones.")

    print("\n3. The same facts posted to a bare durable_rules ruleset with the same conditions")
    widths = (32, 8, 10, 8, 10, 10, 10, 11)
    head = ("case", "batches", "Host med", "actions", "eval/Host", "match med", "match p95")
    print(_row((*head, "eval/match"), widths))
    for f in report["cases"]:
        host: Stats | None = f["host"]
        mt: Stats = f["match"]
        print(
            _row(
                (
                    _short(f["case"]),
                    f"{f.get('host_unhandled_batches', '-')}/{f['batches']}",
                    _us(host.median_us) if host else "skipped",
                    str(f.get("host_actions_run", "-")),
                    f"{f['ratio_evaluate_to_host']:.1f}x" if host else "-",
                    _us(mt.median_us),
                    _us(mt.p95_us),
                    f"{f['ratio_evaluate_to_match']:.1f}x",
                ),
                widths,
            )
        )
    print("  Host: durable.engine.Host subclass without timer threads, a no-op action per rule;")
    print("        per run host.assert_facts for each batch the engine asserts (case, event and")
    print("        new-element facts, then each milestone fact), with a fresh sid, then")
    print("        host.delete_state. Host.assert_facts runs NO action when any fact of the")
    print("        batch matches no rule (it raises MessageNotHandledException, caught here);")
    print("        those actions run later only if a later batch of the same sid is handled.")
    print("        batches: not handled / asserted; actions: no-op actions durable actually ran.")
    print("  match: our wrapper's CompiledRuleset.match(all facts in one batch): fresh session,")
    print("        assert, read the fired rules back as messages, delete; no date arithmetic.")

    svc = report.get("service") or {}
    ev = report["cases"][0]["evaluate"]
    if not svc:
        print("\n4. Service path: not run (--no-service)")
    r: Stats | None = svc.get("evaluate_request")
    q: Stats | None = svc.get("published_version_query")
    if r is not None and q is not None:
        print_service(svc, r, q, ev)
    _print_rest(report)


def print_service(svc: dict[str, Any], r: Stats, q: Stats, ev: Stats) -> None:
    print(
        f"\n4. Service path: rules.services.evaluate_request(payload), full timeline, "
        f"{RUNS_SERVICE:,} runs"
    )
    print(f"  {svc['database']}, DEBUG off; setup took {svc['setup_s']:.1f} s")
    widths = (40, 10, 10)
    print(_row(("", "median", "p95"), widths))
    print(_row(("evaluate_request", _us(r.median_us), _us(r.p95_us)), widths))
    print(_row(("  the pack revision query alone", _us(q.median_us), _us(q.p95_us)), widths))
    print(_row(("  evaluate alone (section 2)", _us(ev.median_us), _us(ev.p95_us)), widths))


def _print_rest(report: dict[str, Any]) -> None:

    t = report["threads"]
    print(
        f"\n5. Throughput, pure engine, full timeline ({t['threads']} threads for "
        f"{t['seconds']:.0f} s)"
    )
    print(f"  1 thread:  {t['single_thread_per_s']:,.0f} evaluations/s")
    print(
        f"  {t['threads']} threads: {t['total_per_s']:,.0f} evaluations/s in total "
        f"({t['per_thread_per_s']:,.0f} per thread), {t['scaling']:.2f}x one thread"
    )
    print("  No scaling is expected: durable_rules' C code never releases the GIL and the rest is")
    print("  pure Python, so threads take turns. Use processes (web/worker processes) to scale.")

    print(f"\n6. One case with many events of one type ({REPEATED_TYPE}): linear in events?")
    widths = (10, 14, 12, 14, 12, 10)
    head = ("events", "evaluate ms", "µs/event", "bare Host ms", "µs/event", "eval/Host")
    print(_row(head, widths))
    for f in report["repeated"]:
        e, h = f["evaluate"], f["host"]
        print(
            _row(
                (
                    f"{f['events']:,}",
                    f"{e.median_us / 1000:.2f}",
                    f"{f['evaluate_us_per_event']:.1f}",
                    f"{h.median_us / 1000:.2f}" if h else "skipped",
                    f"{f['host_us_per_event']:.1f}" if h else "-",
                    f"{f['ratio_evaluate_to_host']:.1f}x" if h else "-",
                ),
                widths,
            )
        )
    print("  medians; the API refuses more than 500 events, the 5,000 are given to the engine.")

    g = report["target"]
    print("\nTarget: evaluation under 1 ms median and within 3x the bare durable_rules figure")
    for line in g["verdicts"]:
        print(f"  {line}")
    print(f"\nFigures written to {_shown(OUT_FILE)} (whole run: {report['elapsed_s']:.0f} s)")


def verdicts(main_case: dict[str, Any]) -> dict[str, Any]:
    median = main_case["evaluate"].median_us
    ratio_match = main_case["ratio_evaluate_to_match"]
    ratio_host = main_case["ratio_evaluate_to_host"]

    def mark(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines = [
        f"full-timeline evaluate median {_us(median)} µs < {TARGET_MEDIAN_US:,.0f} µs: "
        f"{mark(median < TARGET_MEDIAN_US)}",
        f"evaluate / bare match() = {ratio_match:.1f}x (≤ {TARGET_RATIO:.0f}x): "
        f"{mark(ratio_match <= TARGET_RATIO)}",
    ]
    if ratio_host is not None:
        lines.append(
            f"evaluate / bare Host   = {ratio_host:.1f}x (≤ {TARGET_RATIO:.0f}x): "
            f"{mark(ratio_host <= TARGET_RATIO)}"
        )
    return {
        "median_under_1ms": median < TARGET_MEDIAN_US,
        "within_3x_match": ratio_match <= TARGET_RATIO,
        "within_3x_host": None if ratio_host is None else ratio_host <= TARGET_RATIO,
        "verdicts": lines,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Stats):
        return asdict(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _progress(label: str) -> None:
    print(f"… {label}", file=sys.stderr, flush=True)


def quick() -> None:
    """Tiny sizes, for the smoke test (tests/test_benchmarks_run.py): figures mean nothing."""
    global COMPILES, WARMUP, RUNS_MAIN, RUNS_OTHER, RUNS_SERVICE, RUNS_REPEATED
    global THREAD_SECONDS, SINGLE_THREAD_SECONDS, EVENT_COUNTS
    COMPILES, WARMUP, RUNS_MAIN, RUNS_OTHER, RUNS_SERVICE, RUNS_REPEATED = 2, 2, 10, 5, 5, 3
    THREAD_SECONDS, SINGLE_THREAD_SECONDS, EVENT_COUNTS = 0.1, 0.1, (3, 501)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="The rules engine benchmark.")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test only)")
    parser.add_argument("--no-service", action="store_true", help="skip the Django service path")
    args = parser.parse_args(argv)
    if args.quick:
        quick()
    started = time.perf_counter()
    report: dict[str, Any] = {"machine": machine_facts()}
    pack_text = PACK_FILE.read_text(encoding="utf-8")

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    _progress("compiling the pack")
    report["compile"] = bench_compile(pack_text)
    compiled, definition = compile_recording(parse_pack(json.loads(pack_text)))

    full = bench_case("full-timeline", copy.deepcopy(FULL_TIMELINE), compiled)
    cases = [(full, RUNS_MAIN)]
    if not args.quick:
        cases += [(case, RUNS_OTHER) for case in richest_scenarios(compiled)]
    report["cases"] = []
    for case, runs in cases:
        _progress(f"evaluating {case.name} ({runs:,} runs per figure)")
        report["cases"].append(bench_evaluation(compiled, definition, case, runs))
    report["repeated"] = bench_repeated(compiled, definition)
    _progress("threads")
    report["threads"] = bench_threads(compiled, full.case)
    if not args.no_service:
        _progress("service path (Django, SQLite)")
        report["service"] = bench_service(full, compiled)

    report["target"] = verdicts(report["cases"][0])
    report["elapsed_s"] = time.perf_counter() - started
    report["settings"] = {
        "compiles": COMPILES,
        "warmup": WARMUP,
        "runs_full_timeline": RUNS_MAIN,
        "runs_scenarios": RUNS_OTHER,
        "runs_service": RUNS_SERVICE,
        "threads": THREADS,
        "thread_seconds": THREAD_SECONDS,
        "full_timeline": FULL_TIMELINE,
    }
    OUT_FILE.write_text(
        json.dumps(_jsonable(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print_report(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
