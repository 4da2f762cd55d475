from __future__ import annotations

from tests.cases.personas import (  # noqa: F401  (fixtures)
    carla,
    org_a,
    sofia,
)
