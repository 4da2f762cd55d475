"""The condition language: what compile_condition emits, what it refuses (and where), templates.

Every refusal is a ConditionError whose `.path` names the offending part, so a pack author sees
where to look. The compiled form is pinned where durable_rules depends on it: every pattern is
anchored on `t`; comparisons with another fact ({"ref": ...}) come first, after an `$ex` guard for
each compared field (own, and on the referenced pattern), so that durable neither ignores them
(after a nested `$and`/`$or`) nor fails on a missing field (error 311); nested `all` are
flattened. Limits keep every accepted condition inside what durable_rules compiles and runs
(tests/engine/test_conditions_oracle.py runs them). Nothing here needs Django, a database or the
durable_rules engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rules.engine.conditions import (
    MAX_ANY_BRANCHES,
    MAX_DEPTH,
    MAX_PATTERNS,
    MAX_REFERENCES_PER_PATTERN,
    MAX_TERMS_PER_PATTERN,
    ConditionError,
    check_template,
    compile_condition,
    render_template,
)

EVENT_TYPES = ["final_rejection", "registration"]
SETTINGS: dict[str, Any] = {
    "reviewed_until": "2026-06-11",
    "max_reexaminations": 2,
    "unreviewed": None,
}


def compile_(patterns: Any, path: str = "when") -> tuple[list[dict[str, Any]], dict[str, str]]:
    compiled = compile_condition(patterns, event_types=EVENT_TYPES, settings=SETTINGS, path=path)
    assert compiled is not None
    return compiled


def refusal(patterns: Any, path: str = "when") -> ConditionError:
    with pytest.raises(ConditionError) as raised:
        compile_condition(patterns, event_types=EVENT_TYPES, settings=SETTINGS, path=path)
    error = raised.value
    assert str(error) == f"{error.path}: {error.message}"
    return error


def event(where: Any, alias: str = "e") -> dict[str, Any]:
    return {"fact": "event", "as": alias, "where": where}


# --- what compiles, and to what ----------------------------------------------------------------


def test_the_documented_example_compiles_to_an_anchored_join_with_a_reference() -> None:
    patterns, aliases = compile_(
        [
            {
                "fact": "event",
                "as": "rejection",
                "where": {"type": "final_rejection", "latest": True},
            },
            {
                "fact": "new_element",
                "as": "element",
                "where": {"date": {"gt": {"ref": "rejection.date"}}},
            },
        ]
    )
    assert patterns == [
        {
            "rejection": {
                "$and": [
                    {"t": "event"},
                    # Added by the later comparison with rejection.date.
                    {"$ex": {"date": 1}},
                    {"type": "final_rejection"},
                    {"latest": True},
                ]
            }
        },
        {
            "element": {
                "$and": [
                    {"t": "new_element"},
                    {"$ex": {"date": 1}},
                    {"$gt": {"date": {"rejection": "date"}}},
                ]
            }
        },
    ]
    assert aliases == {"rejection": "event", "element": "new_element"}


def test_references_come_first_after_guards_for_every_compared_field() -> None:
    patterns, _ = compile_(
        [
            event({"type": "final_rejection"}, "r"),
            {
                "fact": "new_element",
                "as": "n",
                "where": {
                    "any": [{"date": "2026-01-01"}, {"date": "2026-01-02"}],
                    "all": [
                        {"known_on": {"exists": True}},
                        {"known_on": {"gte": {"ref": "r.date"}}},
                    ],
                    "date": {"lt": {"ref": "r.date"}},
                },
            },
            event(
                {"any": [{"occurrence": {"gt": {"ref": "r.occurrence"}}, "first": True}]},
                "later",
            ),
        ]
    )
    assert patterns == [
        {
            "r": {
                "$and": [
                    {"t": "event"},
                    {"$ex": {"occurrence": 1}},
                    {"$ex": {"date": 1}},
                    {"type": "final_rejection"},
                ]
            }
        },
        {
            "n": {
                "$and": [
                    {"t": "new_element"},
                    {"$ex": {"known_on": 1}},
                    {"$ex": {"date": 1}},
                    {"$gte": {"known_on": {"r": "date"}}},
                    {"$lt": {"date": {"r": "date"}}},
                    {"$or": [{"date": "2026-01-01"}, {"date": "2026-01-02"}]},
                    {"$ex": {"known_on": 1}},
                ]
            }
        },
        # A one-branch `any` and a nested `all` are flattened into the pattern's `$and`.
        {
            "later": {
                "$and": [
                    {"t": "event"},
                    {"$ex": {"occurrence": 1}},
                    {"$gt": {"occurrence": {"r": "occurrence"}}},
                    {"first": True},
                ]
            }
        },
    ]


def test_a_field_referenced_twice_is_guarded_once_on_the_pattern_that_defines_it() -> None:
    patterns, _ = compile_(
        [
            event({"latest": True}, "a"),
            event({"first": True}, "b"),
            event({"date": {"gte": {"ref": "a.date"}, "lte": {"ref": "b.date"}}}, "c"),
            {"fact": "new_element", "where": {"date": {"ref": "a.date"}}},
        ]
    )
    assert patterns[0]["a"]["$and"] == [{"t": "event"}, {"$ex": {"date": 1}}, {"latest": True}]
    assert patterns[1]["b"]["$and"] == [{"t": "event"}, {"$ex": {"date": 1}}, {"first": True}]
    assert patterns[2]["c"]["$and"][:2] == [{"t": "event"}, {"$ex": {"date": 1}}]
    assert patterns[3]["m3"]["$and"] == [
        {"t": "new_element"},
        {"$ex": {"date": 1}},
        {"date": {"a": "date"}},
    ]


def test_nested_all_are_flattened_into_the_pattern() -> None:
    patterns, _ = compile_(
        [event({"all": [{"first": True, "all": [{"latest": True}, {"occurrence": 2}]}]})]
    )
    assert patterns == [
        {"e": {"$and": [{"t": "event"}, {"first": True}, {"latest": True}, {"occurrence": 2}]}}
    ]


def test_an_empty_condition_matches_the_case_fact() -> None:
    assert compile_([]) == ([{"case": {"$and": [{"t": "case"}]}}], {"case": "case"})


def test_the_first_pattern_is_named_after_its_fact_kind_and_later_ones_by_position() -> None:
    _, aliases = compile_([{"fact": "event"}, {"fact": "event"}, {"fact": "case"}])
    assert aliases == {"event": "event", "m1": "event", "m2": "case"}


def test_every_operator_compiles_to_its_durable_form() -> None:
    patterns, _ = compile_(
        [
            event(
                {
                    "date": {"gte": "2026-01-01", "lte": "2026-12-31"},
                    "occurrence": {"gt": 1, "lt": 5, "ne": 3, "eq": 2},
                    "outcome": {"exists": True},
                    "first": {"ne": True},
                    "latest": {"exists": False},
                }
            )
        ]
    )
    assert patterns == [
        {
            "e": {
                "$and": [
                    {"t": "event"},
                    {"$gte": {"date": "2026-01-01"}},
                    {"$lte": {"date": "2026-12-31"}},
                    {"$gt": {"occurrence": 1}},
                    {"$lt": {"occurrence": 5}},
                    {"$neq": {"occurrence": 3}},
                    {"occurrence": 2},
                    {"$ex": {"outcome": 1}},
                    {"$neq": {"first": True}},
                    {"$nex": {"latest": 1}},
                ]
            }
        }
    ]


def test_any_and_all_compile_to_or_and_and_and_a_single_item_needs_no_wrapper() -> None:
    patterns, _ = compile_(
        [
            event(
                {
                    "any": [{"type": "registration"}, {"occurrence": 1, "first": True}],
                    "all": [{"latest": True}],
                }
            )
        ]
    )
    assert patterns[0]["e"]["$and"][1:] == [
        {"$or": [{"type": "registration"}, {"$and": [{"occurrence": 1}, {"first": True}]}]},
        {"latest": True},
    ]


def test_a_count_field_of_a_declared_event_type_compiles_to_a_nested_path() -> None:
    patterns, _ = compile_([{"fact": "case", "where": {"count.final_rejection": {"gte": 1}}}])
    assert patterns == [{"case": {"$and": [{"t": "case"}, {"$gte": {"count.final_rejection": 1}}]}}]


def test_a_setting_is_fixed_at_compile_time() -> None:
    patterns, _ = compile_(
        [
            event({"date": {"gt": {"setting": "reviewed_until"}}}),
            {
                "fact": "case",
                "where": {"previous_reexaminations": {"setting": "max_reexaminations"}},
            },
        ]
    )
    assert patterns[0]["e"]["$and"][1] == {"$gt": {"date": "2026-06-11"}}
    assert patterns[1]["m1"]["$and"][1] == {"previous_reexaminations": 2}


def test_a_comparison_with_a_setting_whose_value_is_none_makes_the_condition_never_match() -> None:
    assert (
        compile_condition(
            [event({"date": {"gt": {"setting": "unreviewed"}}})],
            event_types=EVENT_TYPES,
            settings=SETTINGS,
        )
        is None
    )


def test_an_unset_setting_inside_any_still_makes_the_whole_condition_never_match() -> None:
    # A design choice worth knowing: the other branch of the `any` could hold, but the condition
    # is dropped as a whole.
    condition = [event({"any": [{"date": {"gt": {"setting": "unreviewed"}}}, {"first": True}]})]
    assert compile_condition(condition, event_types=EVENT_TYPES, settings=SETTINGS) is None


def test_an_unset_setting_is_still_type_checked() -> None:
    error = refusal([event({"occurrence": {"setting": "nope"}})])
    assert error.path == "when[0].where.occurrence"


# --- what is refused, and where ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("patterns", "path"),
    [
        ({"fact": "event"}, "when"),
        ("event", "when"),
        (["event"], "when[0]"),
        ([{"fact": "event", "when": {}}], "when[0]"),
        ([{"fact": "person"}], "when[0].fact"),
        ([{"as": "e"}], "when[0].fact"),
        ([{"fact": "milestone"}, {"fact": "Event"}], "when[1].fact"),
        ([{"fact": "event", "as": "Rejection"}], "when[0].as"),
        ([{"fact": "event", "as": "1st"}], "when[0].as"),
        ([{"fact": "event", "as": ""}], "when[0].as"),
        ([{"fact": "event", "as": 3}], "when[0].as"),
    ],
)
def test_a_malformed_pattern_is_refused_at_its_path(patterns: Any, path: str) -> None:
    assert refusal(patterns).path == path


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ({"colour": "red"}, "when[0].where.colour"),
        ({"t": "event"}, "when[0].where.t"),
        ({"sid": "1"}, "when[0].where.sid"),
        ({"known_on": "2026-01-01"}, "when[0].where.known_on"),  # a new_element field
        ({"count.final_rejection": 1}, "when[0].where.count.final_rejection"),  # a case field
        ({"any": [{"type": "x"}, {"colour": "red"}]}, "when[0].where.any[1].colour"),
    ],
)
def test_an_unknown_field_is_refused_at_its_path(where: Any, path: str) -> None:
    error = refusal([event(where)])
    assert error.path == path
    assert "no field" in error.message


def test_a_count_of_an_undeclared_event_type_is_refused() -> None:
    error = refusal([{"fact": "case", "where": {"count.appeal": 1}}])
    assert error.path == "when[0].where.count.appeal"


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ({"occurrence": "1"}, "when[0].where.occurrence"),
        ({"occurrence": {"gt": "1"}}, "when[0].where.occurrence.gt"),
        ({"occurrence": 1.5}, "when[0].where.occurrence"),
        ({"occurrence": True}, "when[0].where.occurrence"),
        ({"occurrence": None}, "when[0].where.occurrence"),
        ({"type": 3}, "when[0].where.type"),
        ({"type": None}, "when[0].where.type"),
        ({"first": 1}, "when[0].where.first"),
        ({"first": "true"}, "when[0].where.first"),
        ({"date": "2026-13-01"}, "when[0].where.date"),
        ({"date": "2026-02-30"}, "when[0].where.date"),
        ({"date": {"lt": 20260101}}, "when[0].where.date.lt"),
        ({"date": "20260101"}, "when[0].where.date"),
        ({"date": "2026-1-1"}, "when[0].where.date"),
        ({"date": "2026-01-01T00:00"}, "when[0].where.date"),
        ({"date": " 2026-01-01"}, "when[0].where.date"),
        ({"date": dt.date(2026, 1, 1)}, "when[0].where.date"),
        ({"date": ["2026-01-01"]}, "when[0].where.date"),
        ({"date": {"eq": ["2026-01-01"]}}, "when[0].where.date.eq"),
    ],
)
def test_a_literal_of_the_wrong_type_is_refused_at_its_path(where: Any, path: str) -> None:
    assert refusal([event(where)]).path == path


@pytest.mark.parametrize(
    "literal", ["2026-W01-1", "2026-W011", "2026W01", "2026-001", "+2026-01-01"]
)
def test_an_iso_week_or_ordinal_date_is_not_accepted_as_a_date_literal(literal: str) -> None:
    # "2026-W01-1" is 10 characters and Python 3.11 date.fromisoformat reads it as 2025-12-29,
    # but durable_rules compares the string itself: it sorts after every 2026-MM-DD date.
    error = refusal([event({"date": {"gt": literal}})])
    assert error.path == "when[0].where.date.gt"
    assert "YYYY-MM-DD" in error.message


def test_a_setting_holding_an_iso_week_date_is_refused_where_it_is_used() -> None:
    error = compile_condition_error(
        [event({"date": {"lt": {"setting": "week"}}})], settings={"week": "2026-W01-1"}
    )
    assert error.path == "when[0].where.date.lt"


def compile_condition_error(patterns: Any, settings: dict[str, Any]) -> ConditionError:
    with pytest.raises(ConditionError) as raised:
        compile_condition(patterns, event_types=EVENT_TYPES, settings=settings)
    return raised.value


@pytest.mark.parametrize("operator", ["gt", "gte", "lt", "lte"])
def test_a_boolean_compared_with_an_ordering_operator_is_refused(operator: str) -> None:
    error = refusal([event({"latest": {operator: True}})])
    assert error.path == f"when[0].where.latest.{operator}"


@pytest.mark.parametrize("operator", ["gt", "gte", "lt", "lte"])
@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("event", "outcome", "rejected"),
        ("event", "type", "registration"),
        ("case", "department", "974"),
        ("milestone", "key", "a"),
        ("event", "outcome", {"ref": "a.outcome"}),
    ],
    ids=["outcome", "type", "department", "key", "reference"],
)
def test_text_compared_with_an_ordering_operator_is_refused(
    kind: str, field: str, value: Any, operator: str
) -> None:
    # durable_rules orders the raw JSON text, closing quote included: "rejected" > "rejected by".
    error = refusal(
        [event({"first": True}, "a"), {"fact": kind, "where": {field: {operator: value}}}]
    )
    assert error.path == f"when[1].where.{field}.{operator}"
    assert error.message == "text fields compare with eq or ne only"


def test_text_still_compares_with_eq_and_ne() -> None:
    patterns, _ = compile_([event({"outcome": {"eq": "rejected", "ne": "rejected by court"}})])
    assert patterns[0]["e"]["$and"][1:] == [
        {"outcome": "rejected"},
        {"$neq": {"outcome": "rejected by court"}},
    ]


@pytest.mark.parametrize(
    "operator",
    ["div", "add", "sub", "mul", "mod", "neq", "$gt", "$div", "in", "matches", "GT", "l", "r"],
)
def test_an_unknown_operator_is_refused_so_arithmetic_never_reaches_the_engine(
    operator: str,
) -> None:
    # Integer $div by zero kills the process (SIGFPE): no operator may compile to arithmetic.
    error = refusal([event({"occurrence": {operator: 0}})])
    assert error.path == f"when[0].where.occurrence.{operator}"
    assert "unknown operator" in error.message


def test_an_arithmetic_expression_as_a_value_is_refused() -> None:
    value = {"$div": {"$l": {"ref": "e.occurrence"}, "$r": 0}}
    error = refusal([event({}), {"fact": "event", "where": {"occurrence": {"gt": value}}}])
    # `where: {}` is refused first: an empty expression.
    assert error.path == "when[0].where"
    error = refusal(
        [event({"first": True}), {"fact": "event", "where": {"occurrence": {"gt": value}}}]
    )
    assert error.path == "when[1].where.occurrence.gt"


def test_an_operator_object_mixing_ref_with_operators_is_refused() -> None:
    error = refusal(
        [event({"first": True}), event({"date": {"ref": "e.date", "gt": "2026-01-01"}}, "f")]
    )
    assert error.path == "when[1].where.date.ref"


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ({}, "when[0].where"),
        ([], "when[0].where"),
        ("type", "when[0].where"),
        ({"date": {}}, "when[0].where.date"),
        ({"any": []}, "when[0].where.any"),
        ({"all": {"type": "x"}}, "when[0].where.all"),
        ({"any": [{"type": "x"}, {}]}, "when[0].where.any[1]"),
        ({"latest": {"exists": 1}}, "when[0].where.latest.exists"),
    ],
)
def test_an_empty_or_malformed_expression_is_refused_at_its_path(where: Any, path: str) -> None:
    assert refusal([event(where)]).path == path


@pytest.mark.parametrize(
    ("second", "path"),
    [
        # An alias that is never defined, defined later, or the pattern's own.
        ({"date": {"gt": {"ref": "rejection.date"}}}, "when[1].where.date.gt"),
        ({"date": {"gt": {"ref": "later.date"}}}, "when[1].where.date.gt"),
        ({"date": {"gt": {"ref": "n.date"}}}, "when[1].where.date.gt"),
        ({"date": {"ref": "rejection.date"}}, "when[1].where.date"),
        # Malformed references.
        ({"date": {"gt": {"ref": "e"}}}, "when[1].where.date.gt"),
        ({"date": {"gt": {"ref": "e.date.day"}}}, "when[1].where.date.gt"),
        ({"date": {"gt": {"ref": 3}}}, "when[1].where.date.gt"),
        ({"date": {"gt": {"ref": "e.date", "setting": "reviewed_until"}}}, "when[1].where.date.gt"),
        # A field the referenced fact kind lacks, or of another type.
        ({"date": {"gt": {"ref": "e.known_on"}}}, "when[1].where.date.gt"),
        ({"date": {"gt": {"ref": "e.occurrence"}}}, "when[1].where.date.gt"),
        ({"known_on": {"ref": "e.type"}}, "when[1].where.known_on"),
    ],
)
def test_a_bad_reference_is_refused_at_its_path(second: Any, path: str) -> None:
    error = refusal(
        [
            event({"latest": True}),
            {"fact": "new_element", "as": "n", "where": second},
            {"fact": "event", "as": "later"},
        ]
    )
    assert error.path == path


def test_a_reference_to_a_field_of_the_wrong_type_says_which_types() -> None:
    error = refusal(
        [event({"first": True}), {"fact": "case", "where": {"as_of": {"ref": "e.first"}}}]
    )
    assert error.message == "compares a date with a boolean"


def test_a_reference_to_a_count_field_is_refused() -> None:
    error = refusal(
        [
            {"fact": "case", "as": "c"},
            event({"occurrence": {"lt": {"ref": "c.count.final_rejection"}}}),
        ]
    )
    assert error.path == "when[1].where.occurrence.lt"


def test_more_than_max_patterns_patterns_are_refused_and_max_patterns_compile() -> None:
    patterns = [{"fact": "event", "as": f"e{i}"} for i in range(MAX_PATTERNS)]
    assert len(compile_(patterns)[0]) == MAX_PATTERNS
    error = refusal([*patterns, {"fact": "case"}])
    assert error.path == "when"
    assert str(MAX_PATTERNS) in error.message


def nested(depth: int) -> dict[str, Any]:
    where: dict[str, Any] = {"first": True}
    for _ in range(depth):
        where = {"any": [where]}
    return where


def test_nesting_deeper_than_max_depth_is_refused_and_max_depth_compiles() -> None:
    compiled, _ = compile_([event(nested(MAX_DEPTH))])
    assert compiled == [{"e": {"$and": [{"t": "event"}, {"first": True}]}}]
    error = refusal([event(nested(MAX_DEPTH + 1))])
    assert error.path == "when[0].where" + ".any[0]" * (MAX_DEPTH + 1)
    assert error.message == "nested too deeply"


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (
            {"any": [{"date": {"gt": {"ref": "r.date"}}}, {"first": True}]},
            "when[1].where.any[0].date.gt",
        ),
        ({"any": [{"first": True}, {"date": {"ref": "r.date"}}]}, "when[1].where.any[1].date"),
        (
            {"any": [{"first": True}, {"all": [{"latest": True, "date": {"ref": "r.date"}}]}]},
            "when[1].where.any[1].all[0].date",
        ),
        # A one-branch `any` inside a wider one is still a branch of the wider one.
        (
            {"any": [{"any": [{"occurrence": {"lt": {"ref": "r.occurrence"}}}]}, {"first": True}]},
            "when[1].where.any[0].any[0].occurrence.lt",
        ),
        (
            {"all": [{"any": [{"first": True}, {"any": [{"date": {"ref": "r.date"}}]}]}]},
            "when[1].where.all[0].any[1].any[0].date",
        ),
    ],
)
def test_a_reference_inside_an_any_of_several_branches_is_refused(where: Any, path: str) -> None:
    # durable_rules fires such an `any` only when a reference branch holds, and fails (error 311)
    # when such a branch lacks its field.
    error = refusal([event({"type": "final_rejection"}, "r"), event(where)])
    assert error.path == path
    assert error.message.startswith("a comparison with another fact cannot be a branch of 'any'")


def test_a_reference_inside_a_one_branch_any_or_an_all_is_accepted() -> None:
    patterns, _ = compile_(
        [
            event({"type": "final_rejection"}, "r"),
            event({"any": [{"date": {"gt": {"ref": "r.date"}}}], "all": [{"first": True}]}),
        ]
    )
    assert patterns[1]["e"]["$and"] == [
        {"t": "event"},
        {"$ex": {"date": 1}},
        {"$gt": {"date": {"r": "date"}}},
        {"first": True},
    ]


def test_an_any_of_more_than_max_any_branches_is_refused_and_max_any_branches_compile() -> None:
    branches = [{"occurrence": i} for i in range(MAX_ANY_BRANCHES)]
    patterns, _ = compile_([event({"any": branches})])
    assert patterns[0]["e"]["$and"][1] == {"$or": branches}
    error = refusal([event({"first": True, "all": [{"any": [*branches, {"occurrence": 99}]}]})])
    assert error.path == "when[0].where.all[0].any"
    assert str(MAX_ANY_BRANCHES) in error.message


def test_more_than_max_references_per_pattern_are_refused() -> None:
    first = event({"type": "final_rejection"}, "r")
    refs = [
        ("date", {"gte": {"ref": "r.date"}}),
        ("occurrence", {"gt": {"ref": "r.occurrence"}}),
        ("type", {"ne": {"ref": "r.type"}}),
        ("outcome", {"ref": "r.outcome"}),
        ("first", {"ref": "r.first"}),
    ]
    assert len(refs) == MAX_REFERENCES_PER_PATTERN + 1
    allowed = dict(refs[:MAX_REFERENCES_PER_PATTERN])
    assert len(compile_([first, event(allowed)])[0]) == 2
    # Counted across the pattern, nested `all` included.
    where = {**allowed, "all": [{"latest": True}, dict(refs[MAX_REFERENCES_PER_PATTERN:])]}
    error = refusal([first, event(where)])
    assert error.path == "when[1].where"
    assert str(MAX_REFERENCES_PER_PATTERN) in error.message


def terms(count: int) -> dict[str, Any]:
    """A `where` compiling to exactly `count` terms (1 to 19), besides the `t` anchor."""
    ops = [
        ("occurrence", "gt", 0),
        ("occurrence", "gte", 1),
        ("occurrence", "lt", 9),
        ("occurrence", "lte", 8),
        ("occurrence", "ne", 5),
        ("date", "gt", "2020-01-01"),
        ("date", "gte", "2020-01-02"),
        ("date", "lt", "2030-01-01"),
        ("date", "lte", "2029-12-31"),
        ("date", "ne", "2025-01-01"),
        ("type", "ne", "x"),
        ("type", "exists", True),
        ("outcome", "ne", "x"),
        ("outcome", "exists", True),
        ("first", "ne", False),
        ("first", "exists", True),
        ("latest", "ne", False),
        ("latest", "exists", True),
        ("occurrence", "exists", True),
    ]
    where: dict[str, Any] = {}
    for field, op, value in ops[:count]:
        where.setdefault(field, {})[op] = value
    return where


def test_a_pattern_of_more_than_max_terms_per_pattern_terms_is_refused() -> None:
    patterns, _ = compile_([event(terms(MAX_TERMS_PER_PATTERN - 1))])
    assert len(patterns[0]["e"]["$and"]) == MAX_TERMS_PER_PATTERN
    error = refusal([event(terms(MAX_TERMS_PER_PATTERN))])
    assert error.path == "when[0].where"
    assert error.message == "too many conditions in one pattern"


def test_the_guard_of_a_reference_counts_towards_max_terms_per_pattern() -> None:
    def with_reference(count: int) -> list[dict[str, Any]]:
        # `t`, the guard on `first`, the reference, and `count` more terms.
        where = {**terms(count), "first": {"ref": "r.first"}}
        return [event({"type": "final_rejection"}, "r"), event(where, "x")]

    patterns, _ = compile_(with_reference(MAX_TERMS_PER_PATTERN - 3))
    assert patterns[1]["x"]["$and"][:3] == [
        {"t": "event"},
        {"$ex": {"first": 1}},
        {"first": {"r": "first"}},
    ]
    assert len(patterns[1]["x"]["$and"]) == MAX_TERMS_PER_PATTERN
    assert refusal(with_reference(MAX_TERMS_PER_PATTERN - 2)).path == "when[1].where"


@pytest.mark.parametrize(
    ("patterns", "path"),
    [
        ([{"fact": "event", "as": "x"}, {"fact": "case", "as": "x"}], "when[1].as"),
        ([{"fact": "event"}, {"fact": "event", "as": "event"}], "when[1].as"),
        ([{"fact": "event", "as": "m1"}, {"fact": "case"}], "when[1].as"),
    ],
)
def test_an_alias_used_twice_is_refused(patterns: Any, path: str) -> None:
    error = refusal(patterns)
    assert error.path == path
    assert "used twice" in error.message


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ({"date": {"gt": {"setting": "deadline"}}}, "when[0].where.date.gt"),
        ({"date": {"setting": "Reviewed_until"}}, "when[0].where.date"),
        ({"occurrence": {"setting": "reviewed_until"}}, "when[0].where.occurrence"),
        ({"date": {"setting": "max_reexaminations"}}, "when[0].where.date"),
    ],
)
def test_a_setting_that_does_not_exist_or_has_the_wrong_type_is_refused(
    where: Any, path: str
) -> None:
    assert refusal([event(where)]).path == path


def test_the_path_prefix_names_the_rule_being_compiled() -> None:
    error = refusal([event({"colour": 1})], path="outcomes[2].rules[0].when")
    assert error.path == "outcomes[2].rules[0].when[0].where.colour"


def test_every_refused_input_raises_condition_error_and_nothing_else() -> None:
    strange: list[Any] = [None, 3, "x", {}, [None], [[]], [{"fact": None}], [{"fact": 3}]]
    strange += [[event({"type": {"eq": {}}})], [event({"type": {"ref": None}})]]
    strange += [[event({"any": [[]]})], [event({"type": {"setting": None}})]]
    strange += [[event({"type": {"eq": {"ref": "e.type"}}})], [event({"any": "type"})]]
    for patterns in strange:
        with pytest.raises(ConditionError):
            compile_condition(patterns, event_types=EVENT_TYPES, settings=SETTINGS)


@pytest.mark.parametrize(
    "patterns",
    [
        [{"fact": []}],
        [{"fact": {"kind": "event"}}],
        [event({"type": {"setting": []}})],
        [event({"date": {"gt": {"setting": {}}}})],
    ],
)
def test_an_unhashable_fact_kind_or_setting_name_is_refused_with_condition_error(
    patterns: Any,
) -> None:
    # The pack validator catches ConditionError only: a TypeError escapes pack validation.
    error = refusal(patterns)
    assert error.path in ("when[0].fact", "when[0].where.type", "when[0].where.date.gt")


# --- message templates -------------------------------------------------------------------------

ALIASES = {"rejection": "event", "element": "new_element", "case": "case"}


def test_check_template_accepts_known_aliases_fields_and_extra_sources() -> None:
    check_template(
        "reason",
        "On {element.known_on}, after {rejection.date} ({case.count.final_rejection}); "
        "reviewed until {pack.reviewed_until}. {not a placeholder} {Upper.case}",
        ALIASES,
        ["pack"],
        EVENT_TYPES,
    )


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("After {decision.date}", "{decision.date}"),
        ("After {pack.reviewed_until}", "{pack.reviewed_until}"),  # not an extra here
        ("After {rejection.known_on}", "{rejection.known_on}"),
        ("After {element.type}", "{element.type}"),
        ("In {case.departement}", "{case.departement}"),
    ],
)
def test_check_template_refuses_a_placeholder_naming_an_unknown_alias_or_field(
    template: str, named: str
) -> None:
    with pytest.raises(ConditionError) as raised:
        check_template("outcomes[0].rules[1].reason", template, ALIASES, [], EVENT_TYPES)
    assert raised.value.path == "outcomes[0].rules[1].reason"
    assert raised.value.message.startswith(named)


@pytest.mark.parametrize(
    ("template", "event_types"),
    [
        ("{rejection.count.final_rejection}", EVENT_TYPES),
        ("{element.count.final_rejection}", EVENT_TYPES),
        ("{case.count.appeal}", EVENT_TYPES),
        ("{case.count.final_rejection.x}", EVENT_TYPES),
        ("{case.count.final_rejection}", []),
    ],
)
def test_check_template_refuses_a_count_placeholder_that_can_never_be_filled(
    template: str, event_types: list[str]
) -> None:
    # Only case facts carry counts, one per event type of the pack: any other count placeholder
    # would be left as it is in every message.
    with pytest.raises(ConditionError) as raised:
        check_template("reason", f"Seen {template} times", ALIASES, [], event_types)
    assert raised.value.path == "reason"
    assert raised.value.message.startswith(template)


def test_render_template_writes_dates_through_the_formatter() -> None:
    text = render_template(
        "Learned on {element.known_on}, after {rejection.date} (until {pack.reviewed_until}).",
        {
            "element": {"t": "new_element", "known_on": "2026-03-02"},
            "rejection": {"date": "2026-01-15"},
        },
        {"pack": {"reviewed_until": "2026-06-11"}},
        lambda iso: dt.date.fromisoformat(iso).strftime("%d/%m/%Y"),
    )
    assert text == "Learned on 02/03/2026, after 15/01/2026 (until 11/06/2026)."


def test_render_template_writes_other_values_as_they_are_including_zero() -> None:
    text = render_template(
        "{case.department}: {case.previous_reexaminations} ({case.count.final_rejection})",
        {
            "case": {
                "department": "974",
                "previous_reexaminations": 0,
                "count": {"final_rejection": 2},
            }
        },
        {},
        lambda iso: "never",
    )
    assert text == "974: 0 (2)"


def test_render_template_leaves_unknown_placeholders_as_they_are() -> None:
    template = "{decision.date} {rejection.outcome} {rejection.date.year} {pack.missing} {x}"
    text = render_template(
        template,
        {"rejection": {"date": "2026-01-15"}},
        {"pack": {"reviewed_until": None}},
        lambda iso: "formatted",
    )
    assert text == template


def test_render_template_prefers_the_matched_fact_over_an_extra_source_of_the_same_name() -> None:
    text = render_template(
        "{pack.reviewed_until}",
        {"pack": {"reviewed_until": "2026-01-01"}},
        {"pack": {"reviewed_until": "2027-01-01"}},
        lambda iso: iso[:4],
    )
    assert text == "2026"
