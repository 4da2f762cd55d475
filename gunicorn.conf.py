"""gunicorn's settings, read from the working directory by every gunicorn started from the
repository root: `make run` (scripts/run.sh), the Docker image and docker compose (WORKDIR /app),
benchmarks/api.py. The number of workers comes from WEB_CONCURRENCY (gunicorn reads it).

gthread workers keep connections alive between requests (sync workers close each one, so a
client such as a script calling the API, or a load balancer without pooling, opened a TCP
connection per request): at concurrency 1 the API went from ~365 to ~500 requests a second on
the 2-CPU benchmark machine (README, "API under gunicorn"). One thread per worker: the rules
engine holds the GIL, so more threads would not evaluate faster; scale with WEB_CONCURRENCY.
An idle kept-alive connection waits in the worker's poller, not in its thread.
"""

from __future__ import annotations

worker_class = "gthread"
threads = 1
keepalive = 5  # seconds an idle connection is kept (behind a proxy: less than its own)
