"""Existing installations: the 0007 migration leaves one published version per pack and loads
the shipped scenario files as the pack's first scenarios."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("rules", "0006_workbench_scenarios_publication")]
AFTER = [("rules", "0007_one_published_version_shipped_scenarios")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_newest_published_version_and_loads_shipped_scenarios() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    RulePack = apps.get_model("rules", "RulePack")
    PackVersion = apps.get_model("rules", "PackVersion")
    PackVersion.objects.all().delete()
    RulePack.objects.all().delete()
    pack = RulePack.objects.create(key="asylum-reexamination", name="test")
    for number in (1, 2):  # an older loader could publish a second version beside the first
        PackVersion.objects.create(
            pack=pack,
            number=number,
            status="published",
            name="test",
            verified_on=dt.date(2026, 1, 1),
            source_title="test",
            department_table="departments",
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    versions = apps.get_model("rules", "PackVersion").objects.order_by("number")
    assert [(v.number, v.status) for v in versions] == [(1, "retired"), (2, "published")]
    names = set(apps.get_model("rules", "Scenario").objects.values_list("name", flat=True))
    assert {"api-example", "api-example-registered-on-time"} <= names
    assert len(names) >= 40

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
