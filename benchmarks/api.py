"""The API under gunicorn: requests per second at concurrency 1, 4 and 16; memory over recompiles.

1. Throughput: gunicorn (the production server, `project.wsgi:application`, 2 gthread workers
   with keep-alive, each listening on the port (SO_REUSEPORT), as `make run` and the Docker image
   start it: gunicorn.conf.py) on a loopback port, DEBUG off, on a throwaway database of its own
   (benchmarks/db.py) with the shipped pack loaded. A user gets an API token from `manage.py
   issue_api_token`, and the load generator sends `POST /api/v1/evaluate` with `Authorization:
   Token <key>` and the full-timeline case of benchmarks/engine.py, for BENCH_API_SECONDS (10) at
   each concurrency, after a warm-up. The load generator is `wrk` (Debian package wrk; one
   thread, N keep-alive connections) when installed, else a small threaded Python client (one
   keep-alive http.client connection per thread); the output says which. Every response is
   counted: anything but 200 is reported, never hidden.
2. Memory over recompiles: another gunicorn with ONE worker (so that every recompile happens in
   the process measured) and PUBLISHED_CACHE_SECONDS=0 (each request reads the revision). 200
   times: bump the published version's revision (`rules.packstore.bump_revision`, what an
   edit in the admin does), then one evaluation, which recompiles the pack in the worker. The
   worker's resident memory (VmRSS in /proc) after 0, 50, 100 and 200 recompiles.

Honest settings for the bench's own server, not production's: the API rate limit
(API_RATE_LIMIT, 120/minute per token by default) is raised to 100000000/hour, the throttle
itself still runs (its counter in the cache: Redis with REDIS_URL, else each worker's memory);
TLS is assumed ended by a proxy (DJANGO_SECURE_PROXY_SSL_HEADER on, requests carry
X-Forwarded-Proto: https), so no redirect to HTTPS. The load generator runs on the same 2-CPU
machine as the server: it takes CPU from the workers.

    python -m benchmarks.api [--seconds 10] [--recompiles 200] [--concurrency 1,4,16]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import db
from benchmarks.engine import FULL_TIMELINE, machine_facts

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = Path(os.environ.get("BENCH_OUT_DIR") or ROOT / ".run" / "bench")
OUT_FILE = OUT_DIR / "api.json"
PATH = "/api/v1/evaluate"
WORKERS = 2
TARGET_PER_S = 500.0
RATE_LIMIT = "100000000/hour"


def _progress(message: str) -> None:
    print(f"  api: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int, log: Path) -> Iterator[tuple[int, int]]:
    """A gunicorn serving the project on a free loopback port: yields (port, master pid)."""
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "project.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            if len(worker_pids(server.pid)) == workers:
                with contextlib.suppress(OSError):
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request("GET", "/healthz")
                    if connection.getresponse().status == 200:
                        break
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn not ready after 60 s")
            time.sleep(0.2)
        yield port, server.pid
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGTERM)  # gunicorn stops its workers on TERM
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(10)


def worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def headers(token: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Authorization": f"Token {token}",
        "X-Forwarded-Proto": "https",
    }


def post(port: int, token: str, body: bytes) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", PATH, body=body, headers=headers(token))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- load generators ---------------------------------------------------------------------------


def wrk_load(
    port: int, token: str, body: bytes, concurrency: int, seconds: float
) -> dict[str, Any]:
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers(token).items()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "--timeout",
                "10s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}{PATH}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    out = result.stdout

    def number(pattern: str, default: float = 0.0) -> float:
        found = re.search(pattern, out)
        return float(found.group(1)) if found else default

    def latency_ms(percent: int) -> float | None:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if not found:
            return None
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        return float(found.group(1)) * scale

    requests = int(number(r"(\d+) requests in"))
    errors = int(number(r"Non-2xx or 3xx responses: (\d+)"))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": requests,
        "per_s": number(r"Requests/sec:\s+([\d.]+)"),
        "p50_ms": latency_ms(50),
        "p99_ms": latency_ms(99),
        "not_200": errors,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def python_load(
    port: int, token: str, body: bytes, concurrency: int, seconds: float
) -> dict[str, Any]:
    samples: list[list[float]] = [[] for _ in range(concurrency)]
    bad = [0] * concurrency
    barrier = threading.Barrier(concurrency + 1)
    stop = [0.0]

    def work(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        barrier.wait()
        mine = samples[index]
        while time.perf_counter() < stop[0]:
            start = time.perf_counter()
            connection.request("POST", PATH, body=body, headers=headers(token))
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status != 200:
                bad[index] += 1
        connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    stop[0] = start + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    every = sorted(s for mine in samples for s in mine)

    def percentile(p: float) -> float | None:
        return 1000 * every[min(len(every) - 1, int(p * len(every)))] if every else None

    return {
        "requests": len(every),
        "per_s": len(every) / elapsed,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "not_200": sum(bad),
        "socket_errors": "",
    }


# --- the benchmark -----------------------------------------------------------------------------


def issue_token() -> str:
    """A caseworker and an API token, through the management command the docs give."""
    import io

    from django.contrib.auth.models import User
    from django.core.management import call_command

    User.objects.create_user("bench-api-client")
    out = io.StringIO()
    call_command("issue_api_token", "bench-api-client", stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def throughput(
    env: dict[str, str], token: str, levels: list[int], seconds: float, generator: str
) -> dict[str, Any]:
    body = json.dumps(FULL_TIMELINE).encode()
    load = wrk_load if generator == "wrk" else python_load
    results: dict[str, Any] = {"levels": []}
    with gunicorn(env, WORKERS, OUT_DIR / "api-gunicorn.log") as (port, _):
        status, answer = post(port, token, body)
        if status != 200 or "deadlines" not in json.loads(answer):
            raise RuntimeError(f"POST {PATH} answered {status}: {answer[:300]!r}")
        _progress("warm-up")
        load(port, token, body, 4, 2.0)
        for concurrency in levels:
            _progress(f"concurrency {concurrency} for {seconds:.0f} s")
            figures = load(port, token, body, concurrency, seconds)
            figures["concurrency"] = concurrency
            results["levels"].append(figures)
    return results


def memory(env: dict[str, str], recompiles: int) -> dict[str, Any]:
    from rules.models import PackVersion
    from rules.packstore import bump_revision

    body = json.dumps(FULL_TIMELINE).encode()
    version = PackVersion.objects.get(
        pack__key=FULL_TIMELINE["procedure"], status=PackVersion.Status.PUBLISHED
    )
    token = env["BENCH_API_TOKEN"]
    marks = sorted({0, recompiles // 4, recompiles // 2, recompiles})
    rss: dict[int, int] = {}
    with gunicorn(
        {**env, "PUBLISHED_CACHE_SECONDS": "0"}, 1, OUT_DIR / "api-memory-gunicorn.log"
    ) as (port, master):
        (pid,) = worker_pids(master)
        for _ in range(20):  # imports, first compile, caches warm
            status, answer = post(port, token, body)
            if status != 200:
                raise RuntimeError(f"POST {PATH} answered {status}: {answer[:300]!r}")
        for done in range(recompiles + 1):
            if done in marks:
                rss[done] = rss_kb(pid)
            if done == recompiles:
                break
            bump_revision(version.pk)
            status, answer = post(port, token, body)
            if status != 200:
                raise RuntimeError(f"POST {PATH} answered {status}: {answer[:300]!r}")
    growth = rss[recompiles] - rss[0]
    half = rss[recompiles] - rss[recompiles // 2]
    return {
        "second_half_growth_kb": half,
        "recompiles": recompiles,
        "rss_kb": {str(k): v for k, v in rss.items()},
        "growth_kb": growth,
        "growth_kb_per_recompile": round(growth / max(1, recompiles), 2),
    }


def run(levels: list[int], seconds: float, recompiles: int, choice: str = "auto") -> dict[str, Any]:
    generator = choice if choice != "auto" else "wrk" if shutil.which("wrk") else "python"
    report: dict[str, Any] = {
        "machine": machine_facts(),
        "workers": WORKERS,
        "generator": generator,
        "seconds": seconds,
        "rate_limit": RATE_LIMIT,
    }
    with db.throwaway_database("api") as url:
        extra = {
            "API_RATE_LIMIT": RATE_LIMIT,
            "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
        }
        db.configure_django(url, **extra)
        _progress("migrating a throwaway database")
        db.migrate()
        report["database"] = db.vendor()
        report["cache"] = "redis" if os.environ.get("REDIS_URL") else "each worker's memory"
        token = issue_token()
        from django.db import connections

        connections.close_all()
        env = {**os.environ, "BENCH_API_TOKEN": token}
        report["throughput"] = throughput(env, token, levels, seconds, generator)
        if recompiles:
            _progress(f"memory over {recompiles} recompiles")
            report["memory"] = memory(env, recompiles)
    report["load_average_after"] = os.getloadavg()
    return report


def print_report(report: dict[str, Any]) -> None:
    generator = (
        "wrk (1 thread, N keep-alive connections)"
        if report["generator"] == "wrk"
        else "a threaded Python client (http.client, one keep-alive connection per thread)"
    )
    print(
        f"\nAPI: POST {PATH} under gunicorn ({report['workers']} workers, gunicorn.conf.py), "
        f"{report['database']}, loopback"
    )
    print(f"  load generator: {generator}, {report['seconds']:.0f} s per level, same machine")
    print(
        f"  rate limit raised to {report['rate_limit']} for this server (throttle still runs, "
        f"counter in {report['cache']}); TLS assumed ended by a proxy"
    )
    widths = (14, 10, 10, 10, 10, 12)
    from benchmarks.engine import _row

    print(_row(("concurrency", "req/s", "p50 ms", "p99 ms", "not 200", "vs ≥ 500/s"), widths))
    for level in report["throughput"]["levels"]:
        print(
            _row(
                (
                    str(level["concurrency"]),
                    f"{level['per_s']:,.0f}",
                    f"{level['p50_ms']:.2f}" if level["p50_ms"] is not None else "-",
                    f"{level['p99_ms']:.2f}" if level["p99_ms"] is not None else "-",
                    str(level["not_200"]),
                    f"{level['per_s'] / TARGET_PER_S:.2f}x",
                ),
                widths,
            )
        )
    mem = report.get("memory")
    if mem:
        marks = ", ".join(f"{k}: {int(v) / 1024:.1f} MB" for k, v in mem["rss_kb"].items())
        print(
            f"  memory of the one worker over {mem['recompiles']} recompiles (RSS) — {marks}; "
            f"{mem['growth_kb'] / 1024:+.1f} MB = {mem['growth_kb_per_recompile']:+.1f} KB a "
            f"recompile; second half {mem['second_half_growth_kb'] / 1024:+.1f} MB"
        )
    load = ", ".join(f"{x:.1f}" for x in report["machine"]["load_average"] or ())
    after = ", ".join(f"{x:.1f}" for x in report["load_average_after"])
    print(f"  load average at start {load}, at the end {after} (1, 5, 15 min)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("BENCH_API_SECONDS", "10"))
    )
    parser.add_argument("--recompiles", type=int, default=200)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument(
        "--generator", choices=("auto", "wrk", "python"), default="auto", help="load generator"
    )
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    report = run(levels, args.seconds, args.recompiles, args.generator)
    OUT_FILE.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report)
    bad = sum(level["not_200"] for level in report["throughput"]["levels"])
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
