"""The only module that talks to durable_rules.

durable_rules is a C matcher wrapped in a Python host built for long-lived sessions. We use the
matcher alone: a compiled ruleset per pack version, a fresh session id per evaluation, facts
asserted in batches, and the "actions" it schedules read back as plain messages (which rule fired
on which facts) without running durable's Python action machinery. That machinery costs 20-25 µs
per firing and may run actions on a background thread; reading the messages costs ~2 µs.

Every sharp edge listed in README: durable_rules that this code relies on has a test in
tests/engine/test_durable_edges.py.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import durable_rules_engine
import orjson

# Internal rule fired by the session's state fact: guarantees that an action ran in every session,
# because delete_state() on a session where no action ever ran reads uninitialised memory and
# segfaults. It sets a marker so it fires once (a rule on the state fact alone re-fires forever).
INIT_RULE = "$init"
_INIT_DEFINITION = {"all": [{"m": {"$and": [{"$s": 1}, {"$nex": {"ready": 1}}]}}]}

# Every compiled pattern must test this field, which only case facts carry: the state fact then
# never matches a rule of ours (it would re-fire forever).
FACT_KIND_FIELD = "t"

# Limits found in the C code (README: durable_rules); the pack validator stays far below.
MAX_RULES = 400
MAX_LIVE_SESSIONS = 1024

_names_lock = threading.Lock()
_registered_names: set[str] = set()
_sid_counter = itertools.count(1)


class DurableError(RuntimeError):
    """durable_rules refused a ruleset or a batch of facts."""


class RulesetRetired(DurableError):
    """The ruleset was retired and freed: compile the pack version again."""


Match = tuple[str, dict[str, dict[str, Any]]]
"""A rule that fired: its name, and the facts it matched by alias."""


class CompiledRuleset:
    """A durable_rules ruleset compiled once and shared by every thread of the process."""

    def __init__(self, name: str, rules: Mapping[str, Mapping[str, Any]]) -> None:
        for rule_name, rule in rules.items():
            if rule_name == INIT_RULE:
                raise DurableError(f"rule name {INIT_RULE!r} is reserved")
            if "run" in rule:
                raise DurableError(f"rule {rule_name!r}: actions are not supported here")
        if len(rules) > MAX_RULES:
            raise DurableError(f"{len(rules)} rules: more than the {MAX_RULES} allowed")
        with _names_lock:
            # A name can be registered once per process; a failed attempt leaks, so check first.
            if name in _registered_names:
                raise DurableError(f"a ruleset named {name!r} is already compiled")
            definition = dict(rules)
            definition[INIT_RULE] = _INIT_DEFINITION
            try:
                self._handle: int | None = durable_rules_engine.create_ruleset(
                    name, _dumps(definition)
                )
            except durable_rules_engine.error as error:
                raise DurableError(f"durable_rules refused ruleset {name!r}: {error}") from error
            _registered_names.add(name)
        self.name = name
        self.rule_names = frozenset(rules)
        # Sessions in use, so that retire() frees the C ruleset only when none uses it.
        self._lock = threading.Lock()
        self._live = 0
        self._retired = False

    def retire(self) -> None:
        """Free the ruleset's memory once no session uses it; later sessions are refused."""
        with self._lock:
            self._retired = True
            self._free_if_unused()

    def _free_if_unused(self) -> None:
        # Without this, every recompilation keeps ~65 KB + 9 KB per rule for the process's life.
        if self._retired and self._live == 0 and self._handle is not None:
            durable_rules_engine.delete_ruleset(self._handle)
            self._handle = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a fresh session; it is always deleted on exit."""
        with self._lock:
            if self._handle is None:
                raise RulesetRetired(f"ruleset {self.name!r} was retired")
            handle = self._handle
            self._live += 1
        session = Session(handle, f"{os.getpid()}-{next(_sid_counter)}")
        try:
            yield session
        finally:
            try:
                session.close()
            finally:
                with self._lock:
                    self._live -= 1
                    self._free_if_unused()

    def match(self, facts: Sequence[dict[str, Any]]) -> list[Match]:
        """Assert facts in a fresh session and return every rule that fired."""
        with self.session() as session:
            return session.assert_facts(facts)


class Session:
    """One evaluation: facts asserted in one or more batches, then deleted."""

    def __init__(self, handle: int, sid: str) -> None:
        self._handle = handle
        self.sid = sid
        self._fact_ids = itertools.count(1)
        self._started = False

    def _initialise(self) -> None:
        # Create the session's state with a fact that matches no rule, and run the init rule
        # before any real fact: a session whose later assert fails can then still be deleted
        # (delete_state on a session where no action ran segfaults, and a session never deleted
        # keeps one of the 1,024 slots forever).
        batch = [{FACT_KIND_FIELD: "$none", "sid": self.sid, "id": "f0"}]
        try:
            result = durable_rules_engine.assert_facts(self._handle, _dumps(batch))
        except durable_rules_engine.error as error:
            raise DurableError(f"durable_rules refused a new session: {error}") from error
        self._started = True
        self._drain(result[1])

    def assert_facts(self, facts: Sequence[dict[str, Any]]) -> list[Match]:
        """Assert facts (copies get a session id and a fresh identity) and return what fired."""
        if not self._started:
            self._initialise()
        if not facts:
            return []
        batch = []
        for fact in facts:
            if FACT_KIND_FIELD not in fact:
                raise DurableError(f"a fact needs a {FACT_KIND_FIELD!r} field")
            # "id" is a fact's identity: two facts with one id count as one. Never reuse ours.
            batch.append({**fact, "sid": self.sid, "id": f"f{next(self._fact_ids)}"})
        try:
            # The engine-level call: Host.assert_facts runs nothing when any fact matches no rule.
            result = durable_rules_engine.assert_facts(self._handle, _dumps(batch))
        except durable_rules_engine.error as error:
            raise DurableError(f"durable_rules refused the facts: {error}") from error
        return self._drain(result[1])

    def _drain(self, state_handle: int) -> list[Match]:
        fired: list[Match] = []
        started = durable_rules_engine.start_action_for_state(self._handle, state_handle)
        if not started:
            return fired
        state_json, message_json = started[0], started[1]
        while message_json:
            message = orjson.loads(message_json)
            for rule_name, matched in message.items():
                if rule_name == INIT_RULE:
                    state = orjson.loads(state_json)
                    state["ready"] = 1
                    durable_rules_engine.update_state(self._handle, _dumps(state))
                else:
                    fired.append((rule_name, _strip(matched)))
            message_json = durable_rules_engine.complete_and_start_action(
                self._handle, state_handle
            )
        return fired

    def close(self) -> None:
        if self._started:
            durable_rules_engine.delete_state(self._handle, self.sid)


def _dumps(value: Any) -> str:
    """JSON for durable_rules: orjson writes (and reads) it several times faster than the json
    module, and the facts, messages and states cross this boundary dozens of times a case."""
    return orjson.dumps(value).decode()


def _strip(matched: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The matched facts without the session id and fact identity (freshly parsed: no copy)."""
    for fact in matched.values():
        fact.pop("sid", None)
        fact.pop("id", None)
    return matched
