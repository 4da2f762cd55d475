"""The condition language of outcome and warning rules, and its translation to durable_rules.

A condition is a list of patterns; each pattern names a kind of fact, an alias, and a `where`
expression over that fact's fields. All patterns must match (a join: later patterns may compare
with fields of earlier ones). An empty list matches every case.

    [{"fact": "event", "as": "rejection", "where": {"type": "final_rejection", "latest": true}},
     {"fact": "new_element", "as": "element",
      "where": {"date": {"gt": {"ref": "rejection.date"}}}}]

`where` grammar: an object whose keys are field names (equality with a literal, or an object of
operators eq/ne/gt/gte/lt/lte/exists) or "all"/"any" with a list of expressions. A value is a
literal, {"ref": "alias.field"} or {"setting": "reviewed_until"} (a pack setting, fixed at compile
time). Fields are typed (below) and literals must match their type: durable_rules compares mixed
types as strings ("9" > 18 is true), so nothing untyped reaches it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .durable import FACT_KIND_FIELD

DATE = "date"
TEXT = "text"
INTEGER = "integer"
BOOLEAN = "boolean"

# The facts an evaluation asserts, and their fields. `count.<event type>` is added per pack.
FACT_FIELDS: dict[str, dict[str, str]] = {
    "case": {
        "department": TEXT,
        "previous_reexaminations": INTEGER,
        "new_element_count": INTEGER,
        "authority_found": BOOLEAN,
        "as_of": DATE,
    },
    "event": {
        "type": TEXT,
        "outcome": TEXT,
        "date": DATE,
        "first": BOOLEAN,
        "latest": BOOLEAN,
        "occurrence": INTEGER,
    },
    "new_element": {"date": DATE, "known_on": DATE},
    "milestone": {"key": TEXT, "date": DATE},
    # A computed deadline, asserted once every deadline is known (after the other facts): a
    # warning or outcome can look at due dates. `due` and `next_working_day` may be absent
    # (a suspended deadline; a limit that cannot be extended).
    "deadline": {
        "key": TEXT,
        "due": DATE,
        "status": TEXT,
        "non_working_day": BOOLEAN,
        "next_working_day": DATE,
    },
}
COUNT_PREFIX = "count."

OPERATORS = {"eq": None, "ne": "$neq", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
ORDERING = ("gt", "gte", "lt", "lte")
MAX_PATTERNS = 4
MAX_DEPTH = 6
# durable_rules refuses to compile (error 113) or fails at run time (error 303) past some size;
# these limits keep every condition well inside what was seen to work.
MAX_ANY_BRANCHES = 8
MAX_REFERENCES_PER_PATTERN = 4
MAX_TERMS_PER_PATTERN = 16
_ALIAS = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class ConditionError(ValueError):
    """A condition that cannot be compiled; `path` names the offending part."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def field_type(kind: str, field: str, event_types: Sequence[str]) -> str | None:
    if kind == "case" and field.startswith(COUNT_PREFIX):
        return INTEGER if field[len(COUNT_PREFIX) :] in event_types else None
    return FACT_FIELDS.get(kind, {}).get(field)


def _check_literal(path: str, value: Any, expected: str) -> Any:
    if expected == DATE:
        if not isinstance(value, str):
            raise ConditionError(path, "expected a date (YYYY-MM-DD)")
        try:
            if not _ISO_DATE.match(value):
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            raise ConditionError(path, f"{value!r} is not a date (YYYY-MM-DD)") from None
    elif expected == TEXT:
        if not isinstance(value, str):
            raise ConditionError(path, "expected text")
    elif expected == INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConditionError(path, "expected a whole number")
    elif expected == BOOLEAN and not isinstance(value, bool):
        raise ConditionError(path, "expected true or false")
    return value


class _Compiler:
    def __init__(
        self,
        event_types: Sequence[str],
        settings: Mapping[str, Any],
    ) -> None:
        self.event_types = list(event_types)
        self.settings = settings
        self.aliases: dict[str, str] = {}
        # A pattern that compares with a setting that has no value can never match.
        self.unsatisfiable = False
        # Terms of the pattern being compiled that compare with another fact, and the fields
        # (own and referenced) that must exist for such a comparison.
        self.reference_terms: list[Any] = []
        self.own_required: list[str] = []
        self.referenced_required: list[tuple[str, str]] = []
        self.any_branches = 0

    def value(self, path: str, raw: Any, expected: str, in_any: bool = False) -> Any:
        if isinstance(raw, dict):
            if set(raw) == {"ref"}:
                if in_any:
                    raise ConditionError(
                        path,
                        "a comparison with another fact cannot be a branch of 'any': "
                        "write one rule per branch instead",
                    )
                ref = raw["ref"]
                if not isinstance(ref, str) or ref.count(".") != 1:
                    raise ConditionError(path, "a reference is written alias.field")
                alias, field = ref.split(".")
                if alias not in self.aliases:
                    raise ConditionError(path, f"unknown alias {alias!r} (define it earlier)")
                ref_type = field_type(self.aliases[alias], field, self.event_types)
                if ref_type is None:
                    raise ConditionError(path, f"{self.aliases[alias]} facts have no {field!r}")
                if ref_type != expected:
                    raise ConditionError(path, f"compares a {expected} with a {ref_type}")
                self.referenced_required.append((alias, field))
                return {alias: field}
            if set(raw) == {"setting"}:
                name = raw["setting"]
                if not isinstance(name, str) or name not in self.settings:
                    raise ConditionError(path, f"unknown setting {name!r}")
                setting = self.settings[name]
                if setting is None:
                    self.unsatisfiable = True
                    return _check_literal(path, "0001-01-01", expected) if expected == DATE else 0
                return _check_literal(path, setting, expected)
            raise ConditionError(path, "a value is a literal, {'ref': ...} or {'setting': ...}")
        if isinstance(raw, list):
            raise ConditionError(path, "a list is not a value")
        return _check_literal(path, raw, expected)

    def expression(
        self, path: str, kind: str, where: Any, depth: int = 0, in_any: bool = False
    ) -> list[Any]:
        """Return a list of durable_rules terms (to be and-ed)."""
        if depth > MAX_DEPTH:
            raise ConditionError(path, "nested too deeply")
        if not isinstance(where, dict):
            raise ConditionError(path, "expected an object")
        terms: list[Any] = []
        for key, spec in where.items():
            key_path = f"{path}.{key}"
            if key in ("all", "any"):
                if not isinstance(spec, list) or not spec:
                    raise ConditionError(key_path, "expected a non-empty list")
                if key == "any" and len(spec) > 1:
                    # durable_rules refuses (error 113) a pattern whose "any"s add up to too
                    # many branches, even when each is small: count them per pattern.
                    self.any_branches += len(spec)
                    if self.any_branches > MAX_ANY_BRANCHES:
                        raise ConditionError(
                            key_path, f"at most {MAX_ANY_BRANCHES} 'any' branches in one pattern"
                        )
                branch_in_any = in_any or (key == "any" and len(spec) > 1)
                parts = []
                for index, item in enumerate(spec):
                    sub = self.expression(
                        f"{key_path}[{index}]", kind, item, depth + 1, branch_in_any
                    )
                    parts.append(sub[0] if len(sub) == 1 else {"$and": sub})
                if key == "any" and len(parts) > 1:
                    terms.append({"$or": parts})
                elif key == "all" and len(parts) > 1:
                    terms.append({"$and": parts})
                else:
                    terms.append(parts[0])
                continue
            expected = field_type(kind, key, self.event_types)
            if expected is None or key == FACT_KIND_FIELD:
                raise ConditionError(key_path, f"{kind} facts have no field {key!r}")
            if not isinstance(spec, dict) or set(spec) <= {"ref", "setting"}:
                term = {key: self.value(key_path, spec, expected, in_any)}
                if isinstance(spec, dict) and "ref" in spec:
                    self.reference_terms.append(term)
                    self.own_required.append(key)
                terms.append(term)
                continue
            if not spec:
                raise ConditionError(key_path, "expected at least one operator")
            for operator, raw in spec.items():
                op_path = f"{key_path}.{operator}"
                if operator == "exists":
                    if not isinstance(raw, bool):
                        raise ConditionError(op_path, "expected true or false")
                    terms.append({"$ex" if raw else "$nex": {key: 1}})
                    continue
                if operator not in OPERATORS:
                    raise ConditionError(
                        op_path, f"unknown operator; use one of {', '.join([*OPERATORS, 'exists'])}"
                    )
                if expected == BOOLEAN and operator not in ("eq", "ne"):
                    raise ConditionError(op_path, "true/false fields compare with eq or ne only")
                if expected == TEXT and operator in ORDERING:
                    # durable_rules orders raw JSON text, closing quote included.
                    raise ConditionError(op_path, "text fields compare with eq or ne only")
                value = self.value(op_path, raw, expected, in_any)
                durable_op = OPERATORS[operator]
                term = {key: value} if durable_op is None else {durable_op: {key: value}}
                if isinstance(raw, dict) and "ref" in raw:
                    self.reference_terms.append(term)
                    self.own_required.append(key)
                terms.append(term)
        if not terms:
            raise ConditionError(path, "an empty expression")
        return terms

    def compile(self, path: str, patterns: Any) -> list[dict[str, Any]]:
        if not isinstance(patterns, list):
            raise ConditionError(path, "a condition is a list of patterns")
        if len(patterns) > MAX_PATTERNS:
            raise ConditionError(path, f"at most {MAX_PATTERNS} patterns")
        if not patterns:
            patterns = [{"fact": "case", "as": "case"}]
        compiled: list[dict[str, Any]] = []
        for index, pattern in enumerate(patterns):
            pattern_path = f"{path}[{index}]"
            if not isinstance(pattern, dict):
                raise ConditionError(pattern_path, "expected an object")
            unknown = set(pattern) - {"fact", "as", "where"}
            if unknown:
                raise ConditionError(pattern_path, f"unknown key {sorted(unknown)[0]!r}")
            kind = pattern.get("fact")
            if not isinstance(kind, str) or kind not in FACT_FIELDS:
                raise ConditionError(
                    f"{pattern_path}.fact", f"expected one of {', '.join(FACT_FIELDS)}"
                )
            alias = pattern.get("as", kind if index == 0 else f"m{index}")
            if not isinstance(alias, str) or not _ALIAS.match(alias):
                raise ConditionError(f"{pattern_path}.as", "an alias is a short lower-case name")
            if alias in self.aliases:
                raise ConditionError(f"{pattern_path}.as", f"alias {alias!r} is used twice")
            self.reference_terms, self.own_required, self.referenced_required = [], [], []
            self.any_branches = 0
            where_terms: list[Any] = []
            if "where" in pattern:
                where_terms = _flatten(
                    self.expression(f"{pattern_path}.where", kind, pattern["where"])
                )
            if len(self.reference_terms) > MAX_REFERENCES_PER_PATTERN:
                raise ConditionError(
                    f"{pattern_path}.where",
                    f"at most {MAX_REFERENCES_PER_PATTERN} comparisons with other facts",
                )
            # durable_rules ignores a comparison with another fact that comes after a nested
            # all/any in the same pattern, and fails (error 311) when a compared field is
            # missing: put such comparisons first, each after a check that its fields exist.
            references = [t for t in where_terms if any(t is r for r in self.reference_terms)]
            others = [t for t in where_terms if not any(t is r for r in self.reference_terms)]
            exists = [{"$ex": {name: 1}} for name in dict.fromkeys(self.own_required)]
            terms: list[Any] = [{FACT_KIND_FIELD: kind}, *exists, *references, *others]
            if len(terms) > MAX_TERMS_PER_PATTERN:
                raise ConditionError(f"{pattern_path}.where", "too many conditions in one pattern")
            for ref_alias, ref_field in dict.fromkeys(self.referenced_required):
                target = next(p for p in compiled if ref_alias in p)[ref_alias]["$and"]
                guard = {"$ex": {ref_field: 1}}
                if guard not in target:
                    target.insert(1, guard)
            self.aliases[alias] = kind
            compiled.append({alias: {"$and": terms}})
        return compiled


def _flatten(terms: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for term in terms:
        if isinstance(term, dict) and set(term) == {"$and"}:
            flat.extend(_flatten(term["$and"]))
        else:
            flat.append(term)
    return flat


def compile_condition(
    patterns: Any,
    *,
    event_types: Sequence[str],
    settings: Mapping[str, Any],
    path: str = "when",
) -> tuple[list[dict[str, Any]], dict[str, str]] | None:
    """Translate a condition to durable_rules `all` patterns and its aliases.

    Returns None when the condition can never match (it compares with an unset setting).
    Raises ConditionError naming the offending part.
    """
    compiler = _Compiler(event_types, settings)
    compiled = compiler.compile(path, patterns)
    if compiler.unsatisfiable:
        return None
    return compiled, compiler.aliases


MAX_ALTERNATIVES = 4


def alternatives(patterns: Any, path: str = "when") -> list[tuple[str, Any]]:
    """The conditions a `when` stands for, each with its path: itself, or its alternatives.

    `[{"any": [[patterns...], [patterns...]]}]` matches when any of the lists matches (one
    durable_rules rule per list): e.g. an event after a day, or a computed due date after it.
    """
    if (
        isinstance(patterns, list | tuple)
        and len(patterns) == 1
        and isinstance(patterns[0], dict)
        and set(patterns[0]) == {"any"}
    ):
        branches = patterns[0]["any"]
        any_path = f"{path}[0].any"
        if (
            not isinstance(branches, list)
            or not 2 <= len(branches) <= MAX_ALTERNATIVES
            or not all(isinstance(b, list) and b for b in branches)
        ):
            raise ConditionError(
                any_path,
                f"expected 2 to {MAX_ALTERNATIVES} conditions, each a non-empty list of patterns",
            )
        return [(f"{any_path}[{i}]", list(branch)) for i, branch in enumerate(branches)]
    return [(path, patterns)]


def condition_aliases(
    patterns: Any,
    *,
    event_types: Sequence[str],
    settings: Mapping[str, Any],
    path: str = "when",
) -> dict[str, str]:
    """The aliases a condition defines (alias -> fact kind), even when it can never match.

    A condition comparing with an unset setting (a blank `reviewed_until`) never fires, but its
    message is still checked against what the condition names. With alternatives, only the
    aliases every alternative defines (with the same kind): a message must work for each.
    Raises ConditionError.
    """
    found: dict[str, str] | None = None
    for branch_path, branch in alternatives(patterns, path):
        compiler = _Compiler(event_types, settings)
        compiler.compile(branch_path, branch)
        if found is None:
            found = dict(compiler.aliases)
        else:
            found = {a: k for a, k in found.items() if compiler.aliases.get(a) == k}
    return found or {}


def compile_alternatives(
    patterns: Any,
    *,
    event_types: Sequence[str],
    settings: Mapping[str, Any],
    path: str = "when",
) -> list[tuple[list[dict[str, Any]], dict[str, str]]]:
    """`compile_condition` of each alternative that can match (none: the rule never fires)."""
    compiled = [
        compile_condition(branch, event_types=event_types, settings=settings, path=branch_path)
        for branch_path, branch in alternatives(patterns, path)
    ]
    return [c for c in compiled if c is not None]


def patterns_of(patterns: Any) -> list[Any]:
    """Every pattern of a condition, through its alternatives (unchecked: for counting)."""
    try:
        branches = alternatives(patterns)
    except ConditionError:
        return []
    return [p for _, branch in branches if isinstance(branch, list | tuple) for p in branch]


def uses_fact(patterns: Any, kind: str) -> bool:
    """Whether a condition has a pattern on a kind of fact."""
    return any(isinstance(p, dict) and p.get("fact") == kind for p in patterns_of(patterns))


_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\.([a-z_.]+)\}")


def check_template(
    path: str,
    template: str,
    aliases: Mapping[str, str],
    extra: Sequence[str],
    event_types: Sequence[str] = (),
) -> None:
    """Refuse a message template naming an alias or field the condition does not provide."""
    for alias, field in _PLACEHOLDER.findall(template):
        if alias in extra:
            continue
        if alias not in aliases:
            raise ConditionError(path, f"{{{alias}.{field}}}: no pattern is named {alias!r}")
        if field_type(aliases[alias], field, event_types) is None:
            raise ConditionError(
                path, f"{{{alias}.{field}}}: {aliases[alias]} facts have no {field!r}"
            )


def render_template(
    template: str,
    matched: Mapping[str, Mapping[str, Any]],
    extra: Mapping[str, Mapping[str, Any]],
    format_date: Callable[[str], str],
) -> str:
    """Fill `{alias.field}` placeholders from the matched facts (dates written for a reader)."""

    def replace(found: re.Match[str]) -> str:
        alias, field = found.group(1), found.group(2)
        source = matched.get(alias) or extra.get(alias) or {}
        value: Any = source
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return found.group(0)
        if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            return format_date(value)
        return str(value)

    return _PLACEHOLDER.sub(replace, template)


def uses_setting(patterns: Any, name: str) -> bool:
    """Whether a condition compares with a pack setting (e.g. reviewed_until)."""

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            if node.get("setting") == name and set(node) == {"setting"}:
                return True
            return any(walk(value) for value in node.values())
        if isinstance(node, list | tuple):
            return any(walk(item) for item in node)
        return False

    return walk(patterns_of(patterns))
