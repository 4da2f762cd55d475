"""`python -m benchmarks`: run every benchmark (today: the rules engine)."""

from __future__ import annotations

from benchmarks.engine import main

if __name__ == "__main__":
    raise SystemExit(main())
