"""gunicorn's settings, read from the working directory by every gunicorn started from the
repository root: `make run` (scripts/run.sh), the Docker image and docker compose (WORKDIR /app),
benchmarks/api.py. The number of workers comes from WEB_CONCURRENCY (gunicorn reads it).

gthread workers keep connections alive between requests (sync workers close each one, so a
client such as a script calling the API, or a load balancer without pooling, opened a TCP
connection per request): at concurrency 1 the API went from ~365 to ~500 requests a second on
the 2-CPU benchmark machine (README, "API under gunicorn"). One thread per worker: the rules
engine holds the GIL, so more threads would not evaluate faster; scale with WEB_CONCURRENCY.
An idle kept-alive connection waits in the worker's poller, not in its thread.

reuse_port: each worker opens its own listening socket on the port (SO_REUSEPORT) and the kernel
spreads new connections over them. With one socket shared by all workers, the worker that woke
first accepted a burst of connections, and a connection stays with the worker that accepted it:
16 connections opened at once mostly landed on one of two workers (94 % and 24 % CPU) and the
API gave ~500 or ~990 requests a second at concurrency 16 from run to run; spread by the kernel,
both workers serve (tests/test_web_server.py). The catch: a second gunicorn of the same user
started on the same port would share it instead of failing; scripts/run.sh checks the port is
free first. A connection waiting in a worker's queue when that worker stops is reset.
"""

from __future__ import annotations

worker_class = "gthread"
threads = 1
keepalive = 5  # seconds an idle connection is kept (behind a proxy: less than its own)
reuse_port = True
