from __future__ import annotations

from tests.cases.personas import (  # noqa: F401  (fixtures)
    bruno,
    carla,
    case_a,
    nadia,
    org_a,
    org_b,
    sofia,
)
