"""`loadrulepack FILE --publish` publishes through the workbench: four eyes, scenarios, hooks."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from rules import workbench
from rules.models import PackVersion, RulePack, Scenario

SHIPPED = Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination"
KEY = "asylum-reexamination"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("loadrulepack", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def no_packs(db: None) -> None:
    PackVersion.objects.all().delete()
    RulePack.objects.all().delete()


@pytest.fixture
def people(django_user_model: type[User]) -> None:
    django_user_model.objects.create_superuser("author", "a@example.org", "pw")
    django_user_model.objects.create_superuser("publisher", "p@example.org", "pw")


def ten_days(tmp_path: Path) -> Path:
    """The shipped pack as version 2, with 10 days for OFPRA submission from 4 January 2027.

    (From a date no shipped scenario reaches: the shipped scenarios must keep passing.)
    """
    data: dict[str, Any] = json.loads((SHIPPED / "pack.json").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["version"] = 2
    rule = next(r for r in data["deadline_rules"] if r["key"] == "ofpra_submission")
    rule["versions"][-1]["effective_to"] = "2027-01-03"
    rule["versions"].append(
        {**rule["versions"][-1], "version": 3, "effective_from": "2027-01-04", "offset": 10}
    )
    rule["versions"][-1]["effective_to"] = None
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def statuses() -> list[tuple[int, str]]:
    return list(PackVersion.objects.order_by("number").values_list("number", "status"))


@pytest.mark.usefixtures("no_packs", "people")
def test_it_loads_the_shipped_scenarios_with_the_shipped_pack_once() -> None:
    output = run(str(SHIPPED / "pack.json"))
    count = len(list((SHIPPED / "scenarios").glob("*.json")))
    assert f"{KEY}: {count} scenario(s) added" in output
    run(str(SHIPPED / "pack.json"))
    assert Scenario.objects.count() == count


@pytest.mark.usefixtures("no_packs", "people")
def test_it_publishes_a_file_written_by_another_person(
    tmp_path: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(str(SHIPPED / "pack.json"))
    called: list[int] = []
    monkeypatch.setattr(workbench, "after_publish", [called.append])
    with django_capture_on_commit_callbacks(execute=True):
        output = run(
            str(ten_days(tmp_path)),
            "--publish",
            "--by",
            "publisher",
            "--author",
            "author",
            "--reason",
            "Décret 2026-xx",
        )
    assert f"{KEY} v2: published by publisher" in output
    assert statuses() == [(1, "retired"), (2, "published")]
    published = PackVersion.objects.get(number=2)
    assert (published.last_edited_by.username, published.publish_reason) == (  # type: ignore[union-attr]
        "author",
        "Décret 2026-xx",
    )
    assert called == [published.pk]


@pytest.mark.usefixtures("no_packs", "people")
def test_publishing_ones_own_file_alone_is_refused_and_nothing_is_loaded(
    tmp_path: Path,
) -> None:
    run(str(SHIPPED / "pack.json"))
    with pytest.raises(CommandError) as refused:
        run(str(ten_days(tmp_path)), "--publish", "--by", "publisher", "--reason", "Décret")
    message = str(refused.value)
    assert "v2 was not published" in message
    assert "You made the last change to this draft" in message
    assert "--author" in message
    assert statuses() == [(1, "published")]


@pytest.mark.usefixtures("no_packs", "people")
def test_a_failing_scenario_beside_the_file_blocks_the_publish(tmp_path: Path) -> None:
    run(str(SHIPPED / "pack.json"))
    Scenario.objects.create(
        pack=RulePack.objects.get(key=KEY),
        name="registered-6-january-2027",
        request={
            "procedure": KEY,
            "department": "75",
            "as_of": "2027-01-10",
            "events": [{"type": "registration", "date": "2027-01-06"}],
        },
        expect={"deadlines": {"ofpra_submission": {"due": "2027-01-14"}}},
    )
    with pytest.raises(CommandError) as refused:
        run(
            str(ten_days(tmp_path)),
            "--publish",
            "--by",
            "publisher",
            "--author",
            "author",
            "--reason",
            "Décret",
        )
    assert (
        "registered-6-january-2027: ofpra_submission: expected 2027-01-14, "
        "the draft gives 2027-01-16" in str(refused.value)
    )
    assert statuses() == [(1, "published")]


@pytest.mark.usefixtures("no_packs", "people")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--publish"], "--publish needs --by USERNAME and --reason TEXT"),
        (["--publish", "--by", "publisher"], "--publish needs --by USERNAME and --reason TEXT"),
        (["--publish", "--by", "nobody", "--reason", "x"], "--by: no active user 'nobody'"),
        (["--by", "publisher"], "--by, --author and --reason go with --publish"),
        (["--publish", "--draft", "--by", "publisher", "--reason", "x"], "contradict"),
        (["--publish", "--by", "publisher", "--reason", "x"], "--publish goes with pack files"),
    ],
)
def test_bad_publish_options_are_refused_with_a_message(args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert message in str(refused.value)
    assert statuses() == []
