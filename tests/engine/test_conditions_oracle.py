"""The condition language as durable_rules runs it, checked against a small pure-Python oracle.

`oracle()` below evaluates a condition the way the language is documented in
rules/engine/conditions.py, with no durable_rules at all:

- every pattern must match, each with a different fact (a join: durable never binds one fact to
  two aliases), and every combination of facts that matches is a firing;
- a `where` object is the conjunction of its keys; `all`/`any` are conjunction/disjunction;
- eq/ne/gt/gte/lt/lte compare a field with a literal, a setting (fixed at compile time) or a field
  of an earlier pattern's fact ({"ref": "alias.field"}); `exists` tests presence;
- a missing field makes every comparison false, `ne` included: durable's `$neq` needs the field
  ({"outcome": {"ne": "x"}} does not match an event without an outcome); only `exists: false`
  holds for a missing field. The same holds when a referenced field (own or of the other fact)
  is missing: durable alone would raise error 311, the compiled `$ex` guards make it false.
- `count.<event type>` on the case fact is a nested field: fact["count"][type].

A seeded generator then builds random conditions over the `event`, `new_element` and `case` fact
kinds (dates, integers, text, booleans, joins, references, settings, any/all nested around
references), compiles each with compile_condition into a one-rule CompiledRuleset, asserts many
random fact sets, with fields missing, through Session.assert_facts (sometimes in two batches,
as the engine does for milestones) and compares which alias -> fact bindings fired, as a set
(durable fires once per true branch of an `any`, so multiplicity is not compared), with the
oracle. The generator also writes what the language refuses (a reference in an `any` of several
branches, text ordered with gt/gte/lt/lte, too many references or terms in one pattern):
`expected_refusals()` predicts each refusal from the condition alone, and compile_condition must
refuse exactly those, with a ConditionError naming the pattern. It is deterministic and takes
about two seconds. Every shipped pack condition is compared the same way.

The places where durable_rules itself disagrees with the oracle (references after a nested
`$and`/`$or`, in an `$or`, to a missing field, raw-text ordering, wide `$or`) are pinned at the
end of this file, each by the compiler's refusal or by agreement through the compiled form. One
is still open: compile_condition bounds each `any` to MAX_ANY_BRANCHES, not their total, and
durable refuses (error 113) a pattern whose `any`s together hold a dozen or so branches of two
terms (8 + 4 nested, 7 + 7 side by side): a strict xfail test at the end.

Nothing here needs Django or a database.
"""

from __future__ import annotations

import json
import operator
import random
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rules.engine.conditions import (
    BOOLEAN,
    COUNT_PREFIX,
    DATE,
    FACT_FIELDS,
    INTEGER,
    MAX_ANY_BRANCHES,
    MAX_REFERENCES_PER_PATTERN,
    MAX_TERMS_PER_PATTERN,
    TEXT,
    ConditionError,
    compile_condition,
)
from rules.engine.durable import CompiledRuleset, DurableError

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "rules" / "packs" / "asylum-reexamination" / "pack.json"

# --- the oracle ------------------------------------------------------------------------------

MISSING: Any = object()
Binding = frozenset[tuple[str, str]]
"""One firing: which fact (canonical JSON) each alias matched."""

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def lookup(fact: Mapping[str, Any], name: str) -> Any:
    value: Any = fact
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def _resolve(raw: Any, bound: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any]) -> Any:
    if isinstance(raw, dict) and set(raw) == {"ref"}:
        alias, name = raw["ref"].split(".")
        return lookup(bound[alias], name)
    if isinstance(raw, dict) and set(raw) == {"setting"}:
        value = settings[raw["setting"]]
        return MISSING if value is None else value
    return raw


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is MISSING or right is MISSING:
        return False
    return COMPARE[op](left, right)


def holds(
    where: Mapping[str, Any],
    fact: Mapping[str, Any],
    bound: Mapping[str, Mapping[str, Any]],
    settings: Mapping[str, Any],
) -> bool:
    for key, spec in where.items():
        if key in ("all", "any"):
            results = [holds(item, fact, bound, settings) for item in spec]
            ok = all(results) if key == "all" else any(results)
        elif isinstance(spec, dict) and not set(spec) <= {"ref", "setting"}:
            left = lookup(fact, key)
            ok = all(
                (left is not MISSING) == raw
                if op == "exists"
                else _compare(op, left, _resolve(raw, bound, settings))
                for op, raw in spec.items()
            )
        else:
            ok = _compare("eq", lookup(fact, key), _resolve(spec, bound, settings))
        if not ok:
            return False
    return True


def canonical(fact: Mapping[str, Any]) -> str:
    return json.dumps(fact, sort_keys=True, ensure_ascii=False)


def aliases_of(patterns: Sequence[Mapping[str, Any]]) -> list[str]:
    return [p.get("as", p["fact"] if i == 0 else f"m{i}") for i, p in enumerate(patterns)]


def oracle(
    patterns: Sequence[Mapping[str, Any]],
    facts: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
) -> set[Binding]:
    """Every way of binding each pattern to a different fact so that all of them hold."""
    patterns = list(patterns) or [{"fact": "case", "as": "case"}]
    aliases = aliases_of(patterns)
    found: set[Binding] = set()

    def extend(index: int, bound: dict[str, Mapping[str, Any]], used: frozenset[int]) -> None:
        if index == len(patterns):
            found.add(frozenset((alias, canonical(fact)) for alias, fact in bound.items()))
            return
        pattern = patterns[index]
        for position, fact in enumerate(facts):
            if position in used or fact.get("t") != pattern["fact"]:
                continue
            if "where" in pattern and not holds(pattern["where"], fact, bound, settings):
                continue
            extend(index + 1, {**bound, aliases[index]: fact}, used | {position})

    extend(0, {}, frozenset())
    return found


def bindings(fired: Sequence[tuple[str, Mapping[str, Mapping[str, Any]]]]) -> set[Binding]:
    return {
        frozenset((alias, canonical(fact)) for alias, fact in matched.items())
        for _, matched in fired
    }


# --- the oracle itself, on hand-made cases ---------------------------------------------------

REJECTION: dict[str, Any] = {
    "t": "event",
    "type": "final_rejection",
    "date": "2026-01-15",
    "latest": True,
}
ELEMENT_BEFORE: dict[str, Any] = {"t": "new_element", "date": "2026-01-10"}
ELEMENT_AFTER: dict[str, Any] = {"t": "new_element", "date": "2026-02-01", "known_on": "2026-02-03"}
ARISE_AFTER_REJECTION: list[dict[str, Any]] = [
    {"fact": "event", "as": "rejection", "where": {"type": "final_rejection", "latest": True}},
    {"fact": "new_element", "as": "element", "where": {"date": {"gt": {"ref": "rejection.date"}}}},
]


def test_the_oracle_joins_each_pattern_to_a_different_fact() -> None:
    facts: list[dict[str, Any]] = [REJECTION, ELEMENT_BEFORE, ELEMENT_AFTER]
    assert oracle(ARISE_AFTER_REJECTION, facts, {}) == {
        frozenset({("rejection", canonical(REJECTION)), ("element", canonical(ELEMENT_AFTER))})
    }
    two_events = [{"fact": "event", "as": "a"}, {"fact": "event", "as": "b"}]
    assert oracle(two_events, [REJECTION], {}) == set()


def test_the_oracle_makes_every_comparison_with_a_missing_field_false_but_not_exists() -> None:
    event = {"t": "event", "type": "registration"}
    for spec in ({"eq": "x"}, {"ne": "x"}, {"gt": "a"}, {"lte": "z"}, {"exists": True}):
        assert oracle([{"fact": "event", "where": {"outcome": spec}}], [event], {}) == set()
    assert oracle([{"fact": "event", "where": {"outcome": {"exists": False}}}], [event], {})


def test_an_empty_condition_matches_each_case_fact_for_both() -> None:
    case = {"t": "case", "department": "75"}
    assert oracle([], [case, REJECTION], {}) == {frozenset({("case", canonical(case))})}
    compiled = compile_condition([], event_types=[], settings={})
    assert compiled is not None
    ruleset = CompiledRuleset(unique(), {"r": {"all": compiled[0]}})
    assert bindings(ruleset.match([case, REJECTION])) == oracle([], [case, REJECTION], {})


# --- durable agrees with the oracle on the edges the oracle documents --------------------------


def unique() -> str:
    return f"oracle-{uuid.uuid4().hex}"


def compiled_ruleset(
    patterns: list[dict[str, Any]], event_types: Sequence[str] = (), settings: Any = None
) -> CompiledRuleset:
    compiled = compile_condition(patterns, event_types=event_types, settings=settings or {})
    assert compiled is not None
    return CompiledRuleset(unique(), {"r": {"all": compiled[0]}})


@pytest.mark.parametrize(
    ("name", "spec", "present"),
    [
        ("outcome", {"ne": "rejected"}, "granted"),
        ("outcome", {"eq": "rejected"}, "rejected"),
        ("date", {"gt": "2000-01-01"}, "2026-01-01"),
        ("date", {"ne": "2000-01-01"}, "2026-01-01"),
        ("occurrence", {"lt": 100}, 1),
        ("occurrence", {"gte": -100}, 1),
    ],
)
def test_durable_makes_a_comparison_with_a_missing_field_false_like_the_oracle(
    name: str, spec: Any, present: Any
) -> None:
    patterns: list[dict[str, Any]] = [{"fact": "event", "where": {name: spec}}]
    ruleset = compiled_ruleset(patterns)
    without = {"t": "event", "type": "registration"}
    with_it = {**without, name: present}
    expected = {frozenset({("event", canonical(with_it))})}
    assert oracle(patterns, [without, with_it], {}) == expected
    assert bindings(ruleset.match([without, with_it])) == expected


def test_durable_makes_a_boolean_ne_on_a_missing_field_false_like_the_oracle() -> None:
    patterns: list[dict[str, Any]] = [{"fact": "event", "where": {"latest": {"ne": True}}}]
    ruleset = compiled_ruleset(patterns)
    facts: list[dict[str, Any]] = [
        {"t": "event"},
        {"t": "event", "latest": False},
        {"t": "event", "latest": True},
    ]
    fired = bindings(ruleset.match(facts))
    assert fired == oracle(patterns, facts, {})
    assert fired == {frozenset({("event", canonical({"t": "event", "latest": False}))})}


def test_durable_makes_an_eq_reference_to_a_missing_field_false_like_the_oracle() -> None:
    patterns: list[dict[str, Any]] = [
        {"fact": "event", "as": "a"},
        {"fact": "event", "as": "b", "where": {"outcome": {"ref": "a.outcome"}}},
    ]
    ruleset = compiled_ruleset(patterns)
    facts: list[dict[str, Any]] = [{"t": "event", "n": 1}, {"t": "event", "n": 2, "outcome": "x"}]
    assert ruleset.match(facts) == []
    assert oracle(patterns, facts, {}) == set()


# --- the random comparison -------------------------------------------------------------------

EVENT_TYPES = ("final_rejection", "registration", "appeal")
SETTINGS: dict[str, Any] = {
    "reviewed_until": "2026-01-02",
    "verified_on": "2025-12-31",
    "limit": 1,
    "department": "974",
    "strict": True,
    "unset": None,
}
KINDS = ("event", "event", "new_element", "case")
ALIASES = ("a", "b", "c", "rejection", "element", "x1")
ORDERING = ("gt", "gte", "lt", "lte")
# Text compares with eq/ne only (durable orders raw JSON text), so text values may hold spaces,
# quotes and backslashes: durable compares them as JSON text, equal only if the strings are.
TEXTS: dict[str, tuple[str, ...]] = {
    "type": EVENT_TYPES,
    "outcome": ("granted", "rejected", "rejected by court", 'said "no"', "back\\slash", "é"),
    "department": ("75", "974", "2A", "2B", "9"),
}
DATES = ("2025-12-31", "2026-01-01", "2026-01-02", "2026-02-28", "2026-03-01", "2026-07-01")
INTEGERS = (-1, 0, 1, 2, 3, 10)
ALLOWED_DURABLE_KEYS = {"$and", "$or", "$gt", "$gte", "$lt", "$lte", "$neq", "$ex", "$nex"}

# What compile_condition refuses, as its messages begin.
REFERENCE_IN_ANY = "a comparison with another fact cannot be a branch of 'any'"
TEXT_ORDERING = "text fields compare with eq or ne only"
TOO_MANY_REFERENCES = f"at most {MAX_REFERENCES_PER_PATTERN} comparisons with other facts"
TOO_MANY_TERMS = "too many conditions in one pattern"
TOO_MANY_BRANCHES = f"at most {MAX_ANY_BRANCHES} 'any' branches in one pattern"


@dataclass
class Generated:
    patterns: list[dict[str, Any]]
    uses_unset: bool = False
    refs: int = 0
    # References may be generated in a pattern after the first one: anywhere in its `where`,
    # nested `all`/`any` included (rarely inside an `any` of several branches, which is refused).
    with_refs: bool = False


def fields_of(kind: str, event_types: Sequence[str]) -> dict[str, str]:
    fields = dict(FACT_FIELDS[kind])
    if kind == "case":
        fields.update({f"{COUNT_PREFIX}{code}": INTEGER for code in event_types})
    return fields


def is_reference(raw: Any) -> bool:
    return isinstance(raw, dict) and set(raw) == {"ref"}


def comparisons(spec: Any) -> list[tuple[str, Any]]:
    """The (operator, value) pairs of a field's spec: a bare value is an eq."""
    if isinstance(spec, dict) and not set(spec) <= {"ref", "setting"}:
        return list(spec.items())
    return [("eq", spec)]


def expected_refusals(patterns: Sequence[Mapping[str, Any]]) -> dict[int, set[str]]:
    """For each pattern the compiler must refuse, the reasons it may give (as documented)."""
    refused = {}
    for index, pattern in enumerate(patterns):
        reasons = pattern_refusals(pattern["fact"], pattern.get("where", {}))
        if reasons:
            refused[index] = reasons
    return refused


def pattern_refusals(kind: str, where: Mapping[str, Any]) -> set[str]:
    """Terms are counted as compiled: the `t` anchor, one `$ex` guard per own field compared
    with another fact, each comparison and `exists`, an `any` of several branches as one term,
    `all` and one-branch `any` flattened into the pattern."""
    reasons: set[str] = set()
    compared: list[str] = []
    branches = 0

    def count(where: Mapping[str, Any], in_any: bool) -> int:
        nonlocal branches
        terms = 0
        for key, spec in where.items():
            if key in ("all", "any"):
                wide = key == "any" and len(spec) > 1
                if wide:
                    # The branches of every multi-branch "any" in the pattern add up.
                    branches += len(spec)
                    if branches > MAX_ANY_BRANCHES:
                        reasons.add(TOO_MANY_BRANCHES)
                inner = sum(count(item, in_any or wide) for item in spec)
                terms += 1 if wide else inner
                continue
            for op, raw in comparisons(spec):
                terms += 1
                if op in ORDERING and FACT_FIELDS[kind].get(key) == TEXT:
                    reasons.add(TEXT_ORDERING)
                if is_reference(raw):
                    compared.append(key)
                    if in_any:
                        reasons.add(REFERENCE_IN_ANY)
        return terms

    terms = 1 + count(where, False)
    if len(compared) > MAX_REFERENCES_PER_PATTERN:
        reasons.add(TOO_MANY_REFERENCES)
    if terms + len(set(compared)) > MAX_TERMS_PER_PATTERN:
        reasons.add(TOO_MANY_TERMS)
    return reasons


class ConditionGenerator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def literal(self, name: str, kind_type: str) -> Any:
        rng = self.rng
        if kind_type == DATE:
            return rng.choice(DATES)
        if kind_type == INTEGER:
            return rng.choice(INTEGERS)
        if kind_type == BOOLEAN:
            return rng.choice((True, False))
        return rng.choice(TEXTS[name])

    def value(
        self, out: Generated, earlier: dict[str, str], name: str, type_: str, in_any: bool
    ) -> Any:
        rng = self.rng
        refs = (
            []
            if not out.with_refs
            else [
                (alias, other)
                for alias, kind in earlier.items()
                for other, other_type in FACT_FIELDS[kind].items()
                if other_type == type_
            ]
        )
        roll = rng.random()
        # Inside an `any` of several branches a reference is refused: write few of them.
        if refs and roll < (0.03 if in_any else 0.5):
            alias, other = rng.choice(refs)
            out.refs += 1
            return {"ref": f"{alias}.{other}"}
        settings = [
            key for key, value in SETTINGS.items() if value is not None and _type_of(value) == type_
        ]
        if 0.6 <= roll < 0.7 and settings:
            return {"setting": rng.choice(settings)}
        if roll > 0.985 and type_ == DATE:
            out.uses_unset = True
            return {"setting": "unset"}
        return self.literal(name, type_)

    def where(
        self,
        out: Generated,
        kind: str,
        earlier: dict[str, str],
        depth: int,
        keys: int = 3,
        in_any: bool = False,
    ) -> dict[str, Any]:
        rng = self.rng
        fields = fields_of(kind, EVENT_TYPES)
        where: dict[str, Any] = {}
        for _ in range(rng.choice((1, 1, 2, keys))):
            if depth < 2 and rng.random() < (0.3 if out.with_refs else 0.2):
                key = rng.choice(("any", "all"))
                if key in where:
                    continue
                count = rng.choice((1, 2, 2, 3))
                wide = in_any or (key == "any" and count > 1)
                where[key] = [
                    self.where(out, kind, earlier, depth + 1, keys, wide) for _ in range(count)
                ]
                continue
            name = rng.choice(sorted(fields))
            if name in where:
                continue
            type_ = fields[name]
            if rng.random() < 0.35:
                where[name] = self.value(out, earlier, name, type_, in_any)
                continue
            ops = ["eq", "ne", "exists"]
            if type_ in (DATE, INTEGER) or (type_ == TEXT and rng.random() < 0.04):
                ops += ORDERING  # ordered text is refused: written rarely
            spec: dict[str, Any] = {}
            for op in rng.sample(ops, rng.choice((1, 1, 2))):
                if op == "exists":
                    spec[op] = rng.random() < 0.7
                else:
                    spec[op] = self.value(out, earlier, name, type_, in_any)
            where[name] = spec
        if not where:
            where[next(iter(fields))] = {"exists": True}
        return where

    def condition(self) -> Generated:
        rng = self.rng
        out = Generated(patterns=[])
        earlier: dict[str, str] = {}
        for index in range(rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4))):
            kind = rng.choice(KINDS)
            pattern: dict[str, Any] = {"fact": kind}
            default = kind if index == 0 else f"m{index}"
            if rng.random() < 0.3 and default not in earlier and default not in ALIASES:
                alias = default
            else:
                alias = rng.choice([a for a in ALIASES if a not in earlier])
                pattern["as"] = alias
            out.with_refs = bool(earlier) and rng.random() < 0.7
            # Later patterns get lighter conditions, or joins would hardly ever fire.
            if out.with_refs or rng.random() < (0.85 if index == 0 else 0.5):
                pattern["where"] = self.where(out, kind, earlier, 0, 3 if index == 0 else 2)
            earlier[alias] = kind
            out.patterns.append(pattern)
        return out


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return DATE
    return TEXT


class FactGenerator:
    """Random facts shaped like evaluate.py's, drawing values from small pools, fields missing."""

    def __init__(self, rng: random.Random, event_types: Sequence[str], texts: dict[str, Any]):
        self.rng = rng
        self.event_types = tuple(event_types)
        self.texts = texts

    def _drop(self, fact: dict[str, Any], optional: set[str]) -> None:
        for name in list(fact):
            if name != "t" and self.rng.random() < (0.4 if name in optional else 0.08):
                del fact[name]

    def facts(self) -> list[dict[str, Any]]:
        rng = self.rng
        facts: list[dict[str, Any]] = []
        if rng.random() < 0.9:
            case = {
                "t": "case",
                "department": rng.choice(self.texts["department"]),
                "previous_reexaminations": rng.choice(INTEGERS),
                "new_element_count": rng.choice(INTEGERS),
                "authority_found": rng.random() < 0.5,
                "as_of": rng.choice(DATES),
                "count": {code: rng.choice(INTEGERS) for code in self.event_types},
            }
            self._drop(case, set())
            facts.append(case)
        for _ in range(rng.choice((0, 1, 2, 3, 4, 5, 6))):
            event = {
                "t": "event",
                "type": rng.choice(self.texts["type"]),
                "outcome": rng.choice(self.texts["outcome"]),
                "date": rng.choice(DATES),
                "first": rng.random() < 0.5,
                "latest": rng.random() < 0.5,
                "occurrence": rng.choice(INTEGERS),
                "first_of_outcome": rng.random() < 0.5,
            }
            self._drop(event, {"outcome"})
            facts.append(event)
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            element = {
                "t": "new_element",
                "date": rng.choice(DATES),
                "known_on": rng.choice(DATES),
            }
            self._drop(element, {"known_on"})
            facts.append(element)
        rng.shuffle(facts)
        return facts


def compared_fields(patterns: Sequence[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(fact kind, field) pairs a reference compares, on both sides."""
    kinds = dict(zip(aliases_of(patterns), (p["fact"] for p in patterns), strict=True))
    found: set[tuple[str, str]] = set()

    def walk(kind: str, where: Mapping[str, Any]) -> None:
        for key, spec in where.items():
            if key in ("all", "any"):
                for item in spec:
                    walk(kind, item)
                continue
            for _, raw in comparisons(spec):
                if is_reference(raw):
                    alias, name = raw["ref"].split(".")
                    found.update({(kind, key), (kinds[alias], name)})

    for pattern in patterns:
        walk(pattern["fact"], pattern.get("where", {}))
    return found


def durable_keys(compiled: Any) -> Iterator[str]:
    if isinstance(compiled, dict):
        for key, value in compiled.items():
            if key.startswith("$"):
                yield key
            yield from durable_keys(value)
    elif isinstance(compiled, list):
        for item in compiled:
            yield from durable_keys(item)


def evaluate(
    ruleset: CompiledRuleset, facts: list[dict[str, Any]], split: int | None
) -> set[Binding]:
    """Assert facts in one batch, or two (split: where), and collect every firing."""
    with ruleset.session() as session:
        if split is None:
            return bindings(session.assert_facts(facts))
        first = bindings(session.assert_facts(facts[:split]))
        return first | bindings(session.assert_facts(facts[split:]))


def compile_generated(
    generated: Generated,
) -> tuple[list[dict[str, Any]], dict[str, str]] | ConditionError | None:
    """Compile a generated condition; refused exactly when expected_refusals() says so."""
    refused = expected_refusals(generated.patterns)
    condition = json.dumps(generated.patterns)
    error: ConditionError | None = None
    try:
        compiled = compile_condition(generated.patterns, event_types=EVENT_TYPES, settings=SETTINGS)
    except ConditionError as raised:
        error = raised
    if error is None:
        assert not refused, f"accepted {condition}, expected {refused}"
        return compiled
    assert refused, f"refused {condition}: {error}"
    first = min(refused)
    assert error.path.startswith(f"when[{first}]"), (condition, error.path, refused)
    assert any(error.message.startswith(reason) for reason in refused[first]), (
        condition,
        str(error),
        refused,
    )
    return error


CONDITIONS = 700
FACT_SETS = 16


def test_random_conditions_fire_with_exactly_the_bindings_the_oracle_predicts() -> None:
    rng = random.Random(20261127)
    conditions = ConditionGenerator(rng)
    facts_for = FactGenerator(rng, EVENT_TYPES, TEXTS)
    compared = fired = joined = referenced = nested_refs = missing = unset = 0
    with_refs = 0
    refusals: dict[str, int] = {}
    accepted = 0
    while accepted < CONDITIONS:
        generated = conditions.condition()
        compiled = compile_generated(generated)
        if isinstance(compiled, ConditionError):
            reason = compiled.message.split(":")[0]
            refusals[reason] = refusals.get(reason, 0) + 1
            continue
        accepted += 1
        if generated.uses_unset:
            assert compiled is None, generated.patterns
            unset += 1
            continue
        assert compiled is not None, generated.patterns
        assert set(durable_keys(compiled[0])) <= ALLOWED_DURABLE_KEYS, compiled[0]
        assert list(compiled[1]) == aliases_of(generated.patterns or [{"fact": "case"}])
        ruleset = CompiledRuleset(
            f"oracle-{accepted}-{uuid.uuid4().hex}", {"r": {"all": compiled[0]}}
        )
        compared_pairs = compared_fields(generated.patterns)
        text = json.dumps(generated.patterns)
        # A reference in a pattern that also holds all/any (durable alone ignored it there).
        nested = any(
            '"ref"' in json.dumps(where)
            and ('"all"' in json.dumps(where) or '"any"' in json.dumps(where))
            for where in (pattern.get("where", {}) for pattern in generated.patterns)
        )
        for _ in range(FACT_SETS):
            facts = facts_for.facts()
            split = rng.randrange(len(facts) + 1) if facts and rng.random() < 0.4 else None
            expected = oracle(generated.patterns, facts, SETTINGS)
            try:
                got = evaluate(ruleset, facts, split)
            except DurableError as error:  # pragma: no cover - reported with its inputs
                pytest.fail(f"{error}\ncondition: {text}\nfacts: {facts}")
            assert got == expected, (
                f"\ncondition: {text}\ncompiled: {compiled[0]}"
                f"\nfacts: {json.dumps(facts, ensure_ascii=False)}\nsplit: {split}"
                f"\ndurable: {sorted(map(sorted, got))}\noracle: {sorted(map(sorted, expected))}"
            )
            compared += 1
            with_refs += generated.refs > 0
            missing += any(
                fact["t"] == kind and name not in fact
                for kind, name in compared_pairs
                for fact in facts
            )
            if expected:
                fired += 1
                joined += len(generated.patterns) > 1
                referenced += generated.refs > 0
                nested_refs += nested
    # The generator is worth something only if it exercises both outcomes, the join paths,
    # references nested in all/any, fields a reference compares missing, and refusals.
    assert compared >= 300 * FACT_SETS
    assert 0.15 * compared < fired < 0.85 * compared, (fired, compared)
    assert joined > 0.04 * compared, joined
    assert with_refs > 0.2 * compared, with_refs
    assert referenced > 0.01 * compared, referenced
    assert nested_refs > 0.002 * compared, nested_refs
    assert missing > 0.05 * compared, missing
    assert unset > 0
    assert set(refusals) >= {REFERENCE_IN_ANY, TEXT_ORDERING, TOO_MANY_REFERENCES}, refusals
    assert sum(refusals.values()) < 0.25 * CONDITIONS, refusals


def test_the_shipped_pack_conditions_fire_as_the_oracle_predicts() -> None:
    if not PACK.exists():
        pytest.skip(f"{PACK} is not there")
    pack = json.loads(PACK.read_text(encoding="utf-8"))
    event_types = [item["code"] for item in pack["event_types"]]
    # reviewed_until may be unset in the pack: use a date so the warning naming it is compiled.
    settings = {"reviewed_until": pack.get("reviewed_until") or "2026-01-02"}
    settings["verified_on"] = pack.get("verified_on")
    whens = [rule["when"] for outcome in pack["outcomes"] for rule in outcome["rules"]]
    whens += [warning["when"] for warning in pack.get("warnings", [])]
    rules: dict[str, Any] = {}
    patterns_of: dict[str, list[dict[str, Any]]] = {}
    texts: dict[str, list[Any]] = {name: list(values) for name, values in TEXTS.items()}
    texts["type"] = list(event_types)
    for index, when in enumerate(whens):
        compiled = compile_condition(when, event_types=event_types, settings=settings)
        assert compiled is not None
        rules[f"r{index}"] = {"all": compiled[0]}
        patterns_of[f"r{index}"] = when
        for name, values in _literals(when):
            if name in texts:
                texts[name].extend(values)
    ruleset = CompiledRuleset(unique(), rules)
    rng = random.Random(31)
    facts_for = FactGenerator(rng, event_types, texts)
    fired_rules: set[str] = set()
    for _ in range(1500):
        facts = facts_for.facts()
        got: dict[str, set[Binding]] = {name: set() for name in rules}
        with ruleset.session() as session:
            for name, matched in session.assert_facts(facts):
                got[name] |= bindings([(name, matched)])
        for name, when in patterns_of.items():
            assert got[name] == oracle(when, facts, settings), (name, when, facts)
            if got[name]:
                fired_rules.add(name)
    assert fired_rules == set(rules), sorted(set(rules) - fired_rules)


def _literals(where: Any) -> Iterator[tuple[str, list[Any]]]:
    """(field, [text literals]) pairs anywhere in a condition, to seed the fact pools."""
    if isinstance(where, list):
        for item in where:
            yield from _literals(item)
    elif isinstance(where, dict):
        for key, value in where.items():
            if isinstance(value, str):
                yield key, [value]
            elif isinstance(value, dict):
                yield key, [v for v in value.values() if isinstance(v, str)]
            yield from _literals(value)


# --- where durable alone disagrees with the oracle, and how the compiler deals with it ----------


def refused(patterns: list[dict[str, Any]], settings: Any = None) -> ConditionError:
    with pytest.raises(ConditionError) as raised:
        compile_condition(patterns, event_types=(), settings=settings or {})
    return raised.value


@pytest.mark.parametrize("op", ["eq", "ne", "gt", "gte", "lt", "lte"])
@pytest.mark.parametrize("missing_from", ["referenced", "own", "both"])
def test_a_comparison_with_a_reference_to_a_missing_field_is_false_not_an_error(
    op: str, missing_from: str
) -> None:
    # Reachable with real facts: evaluate.py leaves `known_on` out of a new element learned of on
    # the day it arose, and `outcome` out of an event without one. durable alone raises error 311
    # (every operator but eq) and the session used to leak: see test_durable_edges.py.
    patterns: list[dict[str, Any]] = [
        {"fact": "new_element", "as": "element"},
        {"fact": "event", "as": "rejection", "where": {"date": {op: {"ref": "element.known_on"}}}},
    ]
    ruleset = compiled_ruleset(patterns)
    element = {"t": "new_element", "date": "2026-01-10", "known_on": "2026-01-15"}
    element_without = {"t": "new_element", "date": "2026-01-10"}
    rejection_without = {k: v for k, v in REJECTION.items() if k != "date"}
    facts: list[dict[str, Any]] = {
        "referenced": [element_without, REJECTION],
        "own": [element, rejection_without],
        "both": [element_without, rejection_without],
    }[missing_from]
    assert oracle(patterns, facts, {}) == set()
    assert ruleset.match(facts) == []
    # With both fields present the comparison decides, as the oracle says, in the same ruleset.
    for date in ("2026-01-14", "2026-01-15", "2026-01-16"):
        facts = [element, {**REJECTION, "date": date}, element_without, rejection_without]
        expected = oracle(patterns, facts, {})
        assert len(expected) == (1 if COMPARE[op](date, "2026-01-15") else 0)
        assert bindings(ruleset.match(facts)) == expected


def test_text_ordering_is_refused_because_durable_orders_raw_json_text() -> None:
    # The raw rule shows why: durable puts "rejected" after "rejected by court", as `"rejected"`
    # (closing quote included) sorts after `"rejected by court"`.
    raw = CompiledRuleset(
        unique(),
        {
            "r": {
                "all": [
                    {"m": {"$and": [{"t": "event"}, {"$gt": {"outcome": "rejected by court"}}]}}
                ]
            }
        },
    )
    fact = {"t": "event", "outcome": "rejected"}
    assert "rejected" < "rejected by court"
    assert raw.match([fact]) == [("r", {"m": fact})]
    patterns: list[dict[str, Any]] = [
        {"fact": "event", "where": {"outcome": {"gt": "rejected by court"}}}
    ]
    error = refused(patterns)
    assert error.path == "when[0].where.outcome.gt"
    assert error.message.startswith(TEXT_ORDERING)


def test_an_any_of_at_most_max_any_branches_evaluates_and_a_wider_one_is_refused() -> None:
    # durable raises error 303 at run time when one fact passes more than 64 alpha nodes (65
    # true branches), and refuses to compile (error 113) an `any` of 16 pairs.
    pairs = [{"type": f"type_{i}", "outcome": f"outcome_{i}"} for i in range(MAX_ANY_BRANCHES)]
    patterns: list[dict[str, Any]] = [{"fact": "event", "as": "decision", "where": {"any": pairs}}]
    ruleset = compiled_ruleset(patterns)
    facts: list[dict[str, Any]] = [
        {"t": "event", "type": f"type_{i}", "outcome": f"outcome_{j}"}
        for i in (0, 3, MAX_ANY_BRANCHES - 1)
        for j in (0, 3, MAX_ANY_BRANCHES - 1)
    ]
    expected = oracle(patterns, facts, {})
    assert len(expected) == 3
    assert bindings(ruleset.match(facts)) == expected
    # Every branch true at once.
    wide = [{"occurrence": {"lt": 100 + i}} for i in range(MAX_ANY_BRANCHES)]
    fact = {"t": "event", "occurrence": 1}
    everything = compiled_ruleset([{"fact": "event", "where": {"any": wide}}])
    assert len(everything.match([fact])) == MAX_ANY_BRANCHES
    error = refused([{"fact": "event", "where": {"any": [*wide, {"occurrence": 0}]}}])
    assert error.path == "when[0].where.any"
    assert error.message.startswith(TOO_MANY_BRANCHES)


ELEMENT_AFTER_REJECTION_BY: dict[str, dict[str, Any]] = {
    # A reference after a nested `all` (an `$and` inside the pattern's `$and`) ...
    "all": {
        "all": [{"date": {"exists": True}, "known_on": {"exists": True}}],
        "known_on": {"gt": {"ref": "rejection.date"}},
    },
    # ... or after an `any` (an `$or`): durable alone drops it, the compiler puts it first.
    "any": {
        "any": [{"date": {"exists": True}}, {"date": "2026-01-01"}],
        "known_on": {"gt": {"ref": "rejection.date"}},
    },
}


@pytest.mark.parametrize("nested", sorted(ELEMENT_AFTER_REJECTION_BY))
def test_a_reference_after_a_nested_all_or_any_is_not_ignored(nested: str) -> None:
    # The element was learned of before the rejection: no rule should fire, whatever the key
    # order; learned of after it, the rule fires.
    patterns: list[dict[str, Any]] = [
        {"fact": "event", "as": "rejection", "where": {"type": "final_rejection"}},
        {"fact": "new_element", "as": "element", "where": ELEMENT_AFTER_REJECTION_BY[nested]},
    ]
    before = {"t": "new_element", "date": "2026-01-01", "known_on": "2026-01-05"}
    after = {**before, "known_on": "2026-01-20"}
    reordered = dict(reversed(list(ELEMENT_AFTER_REJECTION_BY[nested].items())))
    for where in (ELEMENT_AFTER_REJECTION_BY[nested], reordered):
        written = [patterns[0], {**patterns[1], "where": where}]
        ruleset = compiled_ruleset(written)
        assert oracle(written, [REJECTION, before], {}) == set()
        assert ruleset.match([REJECTION, before]) == []
        expected = {frozenset({("rejection", canonical(REJECTION)), ("element", canonical(after))})}
        assert oracle(written, [REJECTION, after], {}) == expected
        assert bindings(ruleset.match([REJECTION, after])) == expected


def test_an_any_mixing_a_reference_and_a_literal_is_refused() -> None:
    # durable fires such an `any` only when a reference branch holds: the compiler refuses it
    # (write one rule per branch).
    patterns: list[dict[str, Any]] = [
        {"fact": "event", "as": "rejection", "where": {"type": "final_rejection"}},
        {
            "fact": "new_element",
            "as": "element",
            "where": {
                "any": [
                    {"known_on": {"gt": {"ref": "rejection.date"}}},
                    {"date": {"gt": {"setting": "reviewed_until"}}},
                ]
            },
        },
    ]
    error = refused(patterns, {"reviewed_until": "2026-06-11"})
    assert error.path == "when[1].where.any[0].known_on.gt"
    assert error.message.startswith(REFERENCE_IN_ANY)


def test_an_any_whose_reference_branch_may_lack_its_field_is_refused() -> None:
    # durable raises error 311 when such a branch lacks its field; `$ex` guards cannot help in
    # an `$or` (they would make the other branch need the field too): the compiler refuses it.
    patterns: list[dict[str, Any]] = [
        {"fact": "event", "as": "rejection", "where": {"type": "final_rejection"}},
        {
            "fact": "new_element",
            "as": "element",
            "where": {"any": [{"known_on": {"ref": "rejection.date"}}, {"date": "2026-07-01"}]},
        },
    ]
    error = refused(patterns)
    assert error.path == "when[1].where.any[0].known_on"
    assert error.message.startswith(REFERENCE_IN_ANY)


def pairs(start: int, count: int) -> list[dict[str, Any]]:
    return [{"type": f"type_{i}", "outcome": f"outcome_{i}"} for i in range(start, start + count)]


ANYS_OF_SIXTEEN_PAIRS: dict[str, dict[str, Any]] = {
    # Each `any` stays within MAX_ANY_BRANCHES; together they hold 16 two-term branches.
    "nested": {"any": [{"any": pairs(0, 8)}, {"any": pairs(8, 8)}]},
    "side_by_side": {"any": pairs(0, 8), "all": [{"any": pairs(8, 8)}]},
}


@pytest.mark.parametrize("shape", sorted(ANYS_OF_SIXTEEN_PAIRS))
def test_anys_holding_sixteen_type_and_outcome_pairs_are_refused_or_compile(shape: str) -> None:
    # Only compile_condition runs when a pack is validated: it must refuse what durable_rules
    # would refuse (error 113), or the pack would fail on every evaluation.
    patterns: list[dict[str, Any]] = [
        {"fact": "event", "as": "decision", "where": ANYS_OF_SIXTEEN_PAIRS[shape]}
    ]
    refusal: ConditionError | None = None
    try:
        compiled = compile_condition(patterns, event_types=(), settings={})
    except ConditionError as error:
        refusal = error
    if refusal is not None:
        assert refusal.path.startswith("when[0].where"), refusal
        return
    assert compiled is not None
    ruleset = CompiledRuleset(unique(), {"r": {"all": compiled[0]}})
    fact = {"t": "event", "type": "type_11", "outcome": "outcome_11"}
    assert bindings(ruleset.match([fact])) == oracle(patterns, [fact], {})
