#!/usr/bin/env bash
# Prepare the database, then run the web server, a Celery worker and Celery beat in this
# terminal. Ctrl-C (or SIGTERM to this script) stops all three; a worker or beat that dies is
# started again. Called by `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Local settings, if any (see .env.example). Variables already set in the shell win.
if [[ -f .env ]]; then
    while IFS= read -r line; do
        [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
        name=${BASH_REMATCH[1]}
        value=${BASH_REMATCH[2]}
        # Drop one pair of surrounding quotes, as docker compose does.
        [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]] && value=${BASH_REMATCH[1]}
        [[ -n ${!name+set} ]] || export "$name=$value"
    done < .env
fi

PY=.venv/bin/python
BIND=${RUN_BIND:-127.0.0.1:8000}
# Alert emails link to the address this serves on, unless ALERT_BASE_URL says otherwise (a host
# bound to every interface is reached on this machine at 127.0.0.1).
if [[ -z ${ALERT_BASE_URL:-} ]]; then
    bind=$BIND host=${bind%:*}
    [[ $host == 0.0.0.0 || $host == "[::]" || $host == "" ]] && host=127.0.0.1
    export ALERT_BASE_URL="http://${host}:${bind##*:}"
fi
mkdir -p .run

debug=$("$PY" manage.py shell --no-imports -c 'from django.conf import settings; print(settings.DEBUG)')

echo "==> migrate"
"$PY" manage.py migrate --noinput

echo "==> loadrulepack ${LOADRULEPACK_ARGS:-}"
# shellcheck disable=SC2086  # LOADRULEPACK_ARGS is a list of arguments
"$PY" manage.py loadrulepack ${LOADRULEPACK_ARGS:-}

if [[ $debug == True ]]; then
    echo "==> ensure_demo_user"
    "$PY" manage.py ensure_demo_user
    echo "==> seed_demo"
    "$PY" manage.py seed_demo
fi

# One planner run before anything starts, so that /healthz/alerts is healthy from the start;
# what is due is queued for the worker about to start.
echo "==> plan_alerts"
"$PY" manage.py plan_alerts

echo "==> collectstatic"
"$PY" manage.py collectstatic --noinput --verbosity 0

# Job control puts each background job in its own process group: Ctrl-C reaches only this
# script, which then stops the three in order, and a group takes along what its leader started
# (runserver's reloader child, Celery's pool processes, gunicorn's workers).
set -m
web_pid='' worker_pid='' beat_pid=''

stop_all() {
    trap - INT TERM EXIT
    set +e  # a process already gone is not an error here
    echo "==> stopping web, worker and beat"
    # Celery and gunicorn stop their own children cleanly when their main process gets TERM
    # (a pool child killed directly is logged as an error); runserver's reloader does not,
    # so the web server's whole group gets it.
    [[ -n $web_pid ]] && kill -TERM -- "-$web_pid" 2>/dev/null
    [[ -n $worker_pid ]] && kill -TERM "$worker_pid" 2>/dev/null
    [[ -n $beat_pid ]] && kill -TERM "$beat_pid" 2>/dev/null
    # 15 seconds for the worker to finish the task in hand, then whatever is left is killed.
    local pid alive
    for _ in $(seq 1 150); do
        alive=0
        for pid in $web_pid $worker_pid $beat_pid; do
            kill -0 -- "-$pid" 2>/dev/null && alive=1
        done
        [[ $alive == 0 ]] && break
        sleep 0.1
    done
    for pid in $web_pid $worker_pid $beat_pid; do
        kill -KILL -- "-$pid" 2>/dev/null
    done
    wait 2>/dev/null
    echo "==> stopped"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

start_worker() {
    .venv/bin/celery -A project worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" &
    worker_pid=$!
}
start_beat() {
    .venv/bin/celery -A project beat --loglevel INFO &
    beat_pid=$!
}

if [[ $debug == True ]]; then
    "$PY" manage.py runserver "$BIND" &
else
    # gunicorn's workers share the port with SO_REUSEPORT (gunicorn.conf.py): a server already
    # there, another `make run` say, would get half the requests instead of stopping this one.
    if ! "$PY" - "$BIND" <<'PY'
import socket, sys
host, _, port = sys.argv[1].rpartition(":")
if port.isdigit():
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past connections: no matter
        try:
            probe.bind((host.strip("[]") or "0.0.0.0", int(port)))
        except OSError as error:
            sys.exit(f"{sys.argv[1]} is taken ({error.strerror}): stop what serves there or set RUN_BIND")
PY
    then
        exit 1
    fi
    .venv/bin/gunicorn project.wsgi:application --bind "$BIND" --workers "${WEB_CONCURRENCY:-2}" &
fi
web_pid=$!
start_worker
start_beat

echo "==> serving on http://$BIND/ (admin: /admin/, API docs: /api/docs/); Ctrl-C stops all"
# A worker or beat that dies is started again (after a pause, so that one failing at start
# does not spin): alerts must not stop because Redis blipped. The web server exiting stops
# everything, since a stack without its web server misleads.
set +e
while true; do
    wait -n
    status=$?
    if ! kill -0 "$web_pid" 2>/dev/null; then
        echo "==> the web server exited (status $status)"
        exit "$status"
    fi
    if ! kill -0 "$worker_pid" 2>/dev/null; then
        echo "==> the Celery worker exited (status $status): starting it again in 2 s"
        # Pool processes a killed worker left behind (its process group) go with it.
        kill -KILL -- "-$worker_pid" 2>/dev/null
        sleep 2
        start_worker
    fi
    if ! kill -0 "$beat_pid" 2>/dev/null; then
        echo "==> Celery beat exited (status $status): starting it again in 2 s"
        sleep 2
        start_beat
    fi
done
