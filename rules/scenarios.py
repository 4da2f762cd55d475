"""A pack's scenarios: cases kept as data with the results they must give.

A scenario's `request` is an API request (with `as_of`, the day it is judged on); its `expect`
lists only what it checks, in the shape of the shipped scenario files:

    {"deadlines": {"<key>": {"due": "2026-04-09", "status": "missed", ...}},
     "absent_deadlines": ["<key>", ...],
     "warnings": ["<code>", ...],          # the exact set of warning codes
     "<outcome>": {"status": "ended", "since": "..."} | null | <value>}

Fields a scenario does not list are not checked. A failure reads as a sentence a lawyer can act
on: "cnda_appeal: expected 2026-03-02, the draft gives 2026-02-28".
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from .engine.inputs import InputError
from .models import PackVersion, RulePack, Scenario
from .packstore import definition
from .services import PackUnavailable, evaluate_request

SHIPPED_PACKS = Path(__file__).resolve().parent / "packs"
# The parts of a result that describe the evaluation rather than its findings.
ENVELOPE = frozenset(
    {
        "procedure",
        "rule_pack",
        "as_of",
        "department",
        "language",
        "outcome_labels",
        "deadlines",
        "warnings",
        "notes",
    }
)
EXPECT_LISTS = ("absent_deadlines", "warnings")


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _sentence(subject: str, wanted: Any, got: Any, giver: str) -> str:
    return f"{subject}: expected {_shown(wanted)}, {giver} gives {_shown(got)}"


def compare(
    expect: dict[str, Any], result: dict[str, Any], *, giver: str = "the result"
) -> list[str]:
    """The sentences saying where `result` differs from what `expect` lists (empty: it holds)."""
    problems: list[str] = []
    deadlines = {d["key"]: d for d in result.get("deadlines", [])}
    for key, fields in (expect.get("deadlines") or {}).items():
        if key not in deadlines:
            problems.append(f"{key}: expected a deadline, {giver} gives none")
            continue
        for name, wanted in fields.items():
            got = deadlines[key].get(name)
            if got != wanted:
                subject = key if name == "due" else f"{key} ({name.replace('_', ' ')})"
                problems.append(_sentence(subject, wanted, got, giver))
    for key in expect.get("absent_deadlines") or []:
        if key in deadlines:
            problems.append(
                f"{key}: expected no deadline, {giver} gives one due {deadlines[key]['due']}"
            )
    if "warnings" in expect:
        codes = sorted(w["code"] for w in result.get("warnings", []))
        wanted_codes = sorted(expect["warnings"] or [])
        if codes != wanted_codes:
            problems.append(
                f"warnings: expected {', '.join(wanted_codes) or 'none'}, "
                f"{giver} gives {', '.join(codes) or 'none'}"
            )
    for name, wanted in expect.items():
        if name in ("deadlines", *EXPECT_LISTS):
            continue
        got = result.get(name)
        if isinstance(wanted, dict) and isinstance(got, dict):
            for field, value in wanted.items():
                if got.get(field) != value:
                    problems.append(_sentence(f"{name} ({field})", value, got.get(field), giver))
        elif got != wanted:
            problems.append(_sentence(name, wanted, got, giver))
    return problems


def expect_problems(expect: Any) -> list[str]:
    """What is wrong with the shape of an `expect`, each naming the field (empty: fine)."""
    if not isinstance(expect, dict):
        return ["expect: expected a JSON object"]
    problems = []
    deadlines = expect.get("deadlines", {})
    if not isinstance(deadlines, dict):
        problems.append("expect.deadlines: expected an object keyed by deadline")
    else:
        for key, fields in deadlines.items():
            if not isinstance(fields, dict):
                problems.append(f"expect.deadlines.{key}: expected an object of fields")
    for name in EXPECT_LISTS:
        value = expect.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"expect.{name}: expected a list of keys")
    return problems


def request_problems(pack: RulePack, request: Any) -> list[str]:
    """What the API would refuse in a scenario's request, each naming the field (empty: fine)."""
    if not isinstance(request, dict):
        return ["request: expected a JSON object"]
    problems = []
    if request.get("procedure") != pack.key:
        problems.append(f"request.procedure: expected {pack.key!r}")
    if not isinstance(request.get("as_of"), str):
        problems.append("request.as_of: required (the day the scenario is judged on)")
    if problems:
        return problems
    version = pack.published_version() or pack.versions.order_by("-number").first()
    if version is None:
        return []
    try:
        evaluate_request(request, pack_version_id=version.pk)
    except InputError as error:
        return [f"request.{e['field']}: {e['message']}" for e in error.errors]
    except PackUnavailable:
        return []
    return []


@dataclasses.dataclass(frozen=True)
class ScenarioRun:
    """One scenario judged against one pack version."""

    scenario_id: int
    name: str
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def giver_of(version: PackVersion) -> str:
    if version.status == PackVersion.Status.DRAFT:
        return "the draft"
    if version.status == PackVersion.Status.PUBLISHED:
        return "the published version"
    return f"version {version.number}"


def run_scenario(scenario: Scenario, version: PackVersion) -> ScenarioRun:
    """Evaluate a scenario's request with a pack version and compare it with its `expect`."""
    giver = giver_of(version)
    try:
        result = evaluate_request(scenario.request, pack_version_id=version.pk)
    except InputError as error:
        problems = [
            f"{scenario.name}: {giver} refuses the request ({e['field']}: {e['message']})"
            for e in error.errors
        ]
        return ScenarioRun(scenario.pk, scenario.name, tuple(problems))
    except PackUnavailable as error:
        return ScenarioRun(scenario.pk, scenario.name, (f"{scenario.name}: {error}",))
    problems = [f"{scenario.name}: {p}" for p in compare(scenario.expect, result, giver=giver)]
    return ScenarioRun(scenario.pk, scenario.name, tuple(problems))


def run_scenarios(
    version: PackVersion, scenarios: list[Scenario] | None = None
) -> list[ScenarioRun]:
    """Run the pack's scenarios (or the given ones) against a pack version, in name order."""
    chosen = list(version.pack.scenarios.all()) if scenarios is None else scenarios
    return [run_scenario(scenario, version) for scenario in chosen]


def failures(version: PackVersion) -> list[str]:
    """Every sentence saying how a pack version breaks its pack's scenarios."""
    return [problem for run in run_scenarios(version) for problem in run.problems]


def expect_from_result(result: dict[str, Any], version: PackVersion) -> dict[str, Any]:
    """What a result shows, as an `expect` (deadlines, absent ones, warnings, outcomes)."""
    pack = definition(version)
    shown = {d["key"]: d for d in result.get("deadlines", [])}
    expect: dict[str, Any] = {
        "deadlines": {
            key: {field: d.get(field) for field in ("due", "status") if field in d}
            for key, d in shown.items()
        },
        "absent_deadlines": [r.key for r in pack.deadline_rules if r.key not in shown],
        "warnings": sorted(w["code"] for w in result.get("warnings", [])),
    }
    for name, value in result.items():
        if name in ENVELOPE:
            continue
        if isinstance(value, dict):
            kept = {k: value[k] for k in ("status", "since", "department") if k in value}
            expect[name] = kept or value
        else:
            expect[name] = value
    return expect


@transaction.atomic
def save_scenario(
    pack: RulePack,
    name: str,
    request: dict[str, Any],
    result: dict[str, Any],
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    origin: str = "",
    description: str = "",
) -> Scenario:
    """Keep a case's facts and its current results as a new scenario of the pack.

    `request` is the API request the case evaluates (it carries no names, phones or emails);
    `result` the evaluation it gives today, turned into the scenario's `expect`.
    """
    version = pack.published_version()
    if version is None:
        raise ValueError(f"{pack.key} has no published version to read the deadlines from")
    facts = {k: v for k, v in request.items() if k != "language"}
    scenario = Scenario(
        pack=pack,
        name=name,
        description=description,
        request=facts,
        expect=expect_from_result(result, version),
        origin=origin,
    )
    scenario._change_reason = f"saved from {origin}" if origin else "saved as a scenario"  # type: ignore[attr-defined]
    if user is not None and user.is_authenticated:
        scenario._history_user = user  # type: ignore[attr-defined]
    scenario.full_clean()
    scenario.save()
    return scenario


def load_shipped_scenarios(pack: RulePack, directory: Path | None = None) -> int:
    """Add the pack's shipped scenario files as scenarios; return how many were added.

    Idempotent: a scenario whose name the pack has (or had, then deleted) is left alone, so an
    edited scenario is never overwritten and a deleted one does not come back.
    """
    folder = directory or SHIPPED_PACKS / pack.key / "scenarios"
    added = 0
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        name = data["name"]
        if Scenario.history.filter(pack_id=pack.pk, name=name).exists():
            continue
        if Scenario.objects.filter(pack=pack, name=name).exists():
            continue
        scenario = Scenario(
            pack=pack,
            name=name,
            description=data.get("description", ""),
            request=data["request"],
            expect=data["expect"],
            origin=f"shipped scenario file {path.name}",
        )
        scenario._change_reason = f"loaded from scenario file {path.name}"  # type: ignore[attr-defined]
        scenario.save()
        added += 1
    return added


@dataclasses.dataclass(frozen=True)
class ScenarioSync:
    """What `follow_shipped_scenarios` changed: scenario names added, updated and removed."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def _read_scenarios(folder: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    found = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["name"]] = (path, data)
    return found


def follow_shipped_scenarios(
    pack: RulePack, folder: Path, earlier_folders: list[Path], *, shown_as: str
) -> ScenarioSync:
    """Make the pack's scenarios those of a shipped version about to be published.

    `folder` holds the shipped version's scenario files, `earlier_folders` those of the
    versions shipped before it. A scenario still exactly as an earlier shipped file wrote it
    (same request and expect) follows the new files: it takes the new file's content when the
    new version changed it, and is deleted when the new version no longer has it (the history
    keeps it, and a deleted name is never loaded again). A scenario legal staff wrote or changed
    is left alone: if the new version breaks it, publishing is refused and says which.
    Names the pack never had are added, as `load_shipped_scenarios` does.
    """
    new = _read_scenarios(folder)
    shipped_before: dict[str, list[dict[str, Any]]] = {}
    for earlier in earlier_folders:
        if earlier.is_dir():
            for name, (_, data) in _read_scenarios(earlier).items():
                shipped_before.setdefault(name, []).append(data)

    def as_shipped(scenario: Scenario) -> bool:
        return any(
            scenario.request == data["request"] and scenario.expect == data["expect"]
            for data in shipped_before.get(scenario.name, [])
        )

    updated: list[str] = []
    removed: list[str] = []
    for scenario in Scenario.objects.filter(pack=pack).order_by("name"):
        if scenario.name in new:
            path, data = new[scenario.name]
            same = scenario.request == data["request"] and scenario.expect == data["expect"]
            if same or not as_shipped(scenario):
                continue
            scenario.description = data.get("description", "")
            scenario.request = data["request"]
            scenario.expect = data["expect"]
            scenario.origin = f"shipped scenario file {path.name}"
            scenario._change_reason = f"follows {shown_as}/{path.name}"[:100]  # type: ignore[attr-defined]
            scenario.save()
            updated.append(scenario.name)
        elif as_shipped(scenario):
            scenario._change_reason = f"not among the scenarios of {shown_as}"[:100]  # type: ignore[attr-defined]
            scenario.delete()
            removed.append(scenario.name)
    before = set(Scenario.objects.filter(pack=pack).values_list("name", flat=True))
    load_shipped_scenarios(pack, folder)
    added = set(Scenario.objects.filter(pack=pack).values_list("name", flat=True)) - before
    return ScenarioSync(tuple(sorted(added)), tuple(updated), tuple(removed))
