"""Benchmarks: scripts that measure and print figures (`make bench`, or `python -m benchmarks`).

They are not tests and assert nothing about speed; each writes its figures as JSON under
.run/bench/ as well, so two runs (or two machines) can be compared.
"""

from __future__ import annotations
