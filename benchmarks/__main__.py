"""`python -m benchmarks`: run every benchmark: the rules engine, the alerts, the dashboard.

The alerts and dashboard benchmarks configure Django their own way (a throwaway database, a
private queue), and Django is set up once per process, so each runs in a process of its own.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks.engine import main as engine_main


def main() -> int:
    status = engine_main()
    for name in ("benchmarks.alerts", "benchmarks.dashboard", "benchmarks.reevaluation"):
        code = subprocess.run([sys.executable, "-m", name], check=False).returncode
        status = status or code
    return status


if __name__ == "__main__":
    raise SystemExit(main())
