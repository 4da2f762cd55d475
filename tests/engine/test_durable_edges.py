"""The sharp edges of durable_rules 2.0.28 that rules/engine/durable.py relies on.

Each test proves one edge listed in README: durable_rules, through the wrapper
(CompiledRuleset, Session). Whatever a regression could turn into a native crash (segfault,
SIGFPE) or a hang runs in a child interpreter with a timeout, so it fails the test instead of
killing pytest. A ruleset name can be registered once per process: every test uses fresh names.

Nothing here needs Django or a database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from rules.engine.durable import (
    FACT_KIND_FIELD,
    INIT_RULE,
    MAX_RULES,
    CompiledRuleset,
    DurableError,
    Match,
    RulesetRetired,
)

ROOT = Path(__file__).resolve().parents[2]

EVENT_RULE = {"all": [{"m": {"$and": [{"t": "event"}, {"type": "hit"}]}}]}
HIT = {"t": "event", "type": "hit", "date": "2026-01-05"}
MISS = {"t": "event", "type": "miss", "date": "2026-01-05"}


def unique(prefix: str = "edge") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def run_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter that can import the project (and not Django)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": path},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"the child interpreter still ran after {timeout} s (a hang): {expired}")


def assert_clean_exit(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (
        f"child exited with {result.returncode} (negative: killed by that signal)\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )


def names(fired: list[Match]) -> list[str]:
    return sorted(rule for rule, _ in fired)


# --- more than 1,024 sessions on one ruleset ---------------------------------------------------

# Each scenario runs 2,100 evaluations on one ruleset (the C table holds 1,024 live sessions), so
# the 1,025th and the 2,049th only work if every session was deleted.
SESSION_SCENARIOS = {
    "a_fact_matched": "assert rs.match([HIT]) == [('hit', {'m': HIT})], i",
    "no_fact_matched_any_rule": "assert rs.match([MISS]) == [], i",
    "the_fact_list_was_empty": "assert rs.match([]) == [], i",
    "the_session_was_opened_and_never_used": "with rs.session():\n        pass",
    "two_batches_of_which_the_first_was_empty": (
        "with rs.session() as s:\n"
        "        assert s.assert_facts([]) == []\n"
        "        assert s.assert_facts([MISS]) == []\n"
        "        assert s.assert_facts([HIT]) == [('hit', {'m': HIT})]"
    ),
    "an_exception_left_the_session": (
        "try:\n"
        "        with rs.session() as s:\n"
        "            s.assert_facts([HIT])\n"
        "            raise KeyError(i)\n"
        "    except KeyError:\n"
        "        pass"
    ),
}


@pytest.mark.parametrize("scenario", sorted(SESSION_SCENARIOS))
def test_more_than_1024_sequential_evaluations_on_one_ruleset_work(scenario: str) -> None:
    body = SESSION_SCENARIOS[scenario]
    script = (
        "from rules.engine.durable import CompiledRuleset, MAX_LIVE_SESSIONS\n"
        f"HIT = {HIT!r}\nMISS = {MISS!r}\n"
        f"rs = CompiledRuleset({unique()!r}, {{'hit': {EVENT_RULE!r}}})\n"
        "assert MAX_LIVE_SESSIONS == 1024\n"
        "for i in range(2 * MAX_LIVE_SESSIONS + 52):\n"
        f"    {body}\n"
        "assert rs.match([HIT]) == [('hit', {'m': HIT})]\n"
        "print('done')\n"
    )
    result = run_python(script)
    assert_clean_exit(result)
    assert result.stdout.strip() == "done"


def test_sessions_of_every_kind_interleaved_past_1024_leave_the_ruleset_usable() -> None:
    result = run_python(
        f"""
        import random
        from rules.engine.durable import CompiledRuleset
        HIT = {HIT!r}
        MISS = {MISS!r}
        rs = CompiledRuleset({unique()!r}, {{"hit": {EVENT_RULE!r}}})
        rng = random.Random(7)
        for i in range(3000):
            facts = rng.choice([[], [HIT], [MISS], [MISS, HIT], [MISS, MISS]])
            expected = [("hit", {{"m": HIT}})] * facts.count(HIT)
            assert rs.match(facts) == expected, (i, facts)
        print("done")
        """
    )
    assert_clean_exit(result)


# --- facts, not events -------------------------------------------------------------------------


def test_a_fact_matching_several_rules_makes_all_of_them_fire() -> None:
    rs = CompiledRuleset(
        unique(),
        {
            "by_type": EVENT_RULE,
            "by_date": {
                "all": [{"m": {"$and": [{"t": "event"}, {"$gt": {"date": "2026-01-01"}}]}}]
            },
            "any_event": {"all": [{"m": {"t": "event"}}]},
            "other_kind": {"all": [{"m": {"t": "milestone"}}]},
        },
    )
    fired = rs.match([HIT])
    assert names(fired) == ["any_event", "by_date", "by_type"]
    assert all(matched == {"m": HIT} for _, matched in fired)


def test_two_facts_with_identical_content_both_fire() -> None:
    rs = CompiledRuleset(unique(), {"hit": EVENT_RULE})
    assert rs.match([HIT, dict(HIT)]) == [("hit", {"m": HIT}), ("hit", {"m": HIT})]


def test_facts_carrying_their_own_equal_id_both_fire_and_come_back_without_id_or_sid() -> None:
    rs = CompiledRuleset(unique(), {"hit": EVENT_RULE})
    fact = {**HIT, "id": 7, "sid": "someone-else"}
    fired = rs.match([fact, dict(fact)])
    assert fired == [("hit", {"m": HIT}), ("hit", {"m": HIT})]


def test_every_combination_of_facts_fires_a_join_and_one_fact_never_fills_two_aliases() -> None:
    rs = CompiledRuleset(
        unique(), {"pair": {"all": [{"a": {"t": "event"}}, {"b": {"t": "event"}}]}}
    )
    one = {"t": "event", "n": 1}
    two = {"t": "event", "n": 2}
    assert rs.match([one]) == []
    pairs = {(m["a"]["n"], m["b"]["n"]) for _, m in rs.match([one, two])}
    assert pairs == {(1, 2), (2, 1)}


def test_any_with_two_true_branches_fires_twice_with_the_same_facts() -> None:
    # Surprising but relied on being harmless: the engine deduplicates reasons and warnings.
    rs = CompiledRuleset(
        unique(),
        {
            "r": {
                "all": [
                    {
                        "m": {
                            "$and": [
                                {"t": "event"},
                                {"$or": [{"type": "hit"}, {"$ex": {"date": 1}}]},
                            ]
                        }
                    }
                ]
            }
        },
    )
    assert rs.match([HIT]) == [("r", {"m": HIT}), ("r", {"m": HIT})]


# --- several batches in one session ------------------------------------------------------------


def test_several_asserts_in_one_session_return_only_the_new_firings() -> None:
    rs = CompiledRuleset(
        unique(),
        {
            "event": EVENT_RULE,
            "milestone": {"all": [{"m": {"t": "milestone"}}]},
            "event_then_milestone": {
                "all": [
                    {"e": {"$and": [{"t": "event"}, {"type": "hit"}]}},
                    {"m": {"$and": [{"t": "milestone"}, {"$gte": {"date": {"e": "date"}}}]}},
                ]
            },
        },
    )
    milestone = {"t": "milestone", "key": "k", "date": "2026-02-01"}
    later_hit = {**HIT, "date": "2026-01-20"}
    with rs.session() as session:
        assert session.assert_facts([HIT, MISS]) == [("event", {"m": HIT})]
        assert names(session.assert_facts([milestone])) == ["event_then_milestone", "milestone"]
        assert session.assert_facts([]) == []
        fired = session.assert_facts([later_hit])
        assert sorted(fired, key=lambda match: match[0]) == [
            ("event", {"m": later_hit}),
            ("event_then_milestone", {"e": later_hit, "m": milestone}),
        ]


def test_sessions_do_not_see_each_others_facts() -> None:
    rs = CompiledRuleset(
        unique(), {"pair": {"all": [{"a": {"t": "event"}}, {"b": {"t": "milestone"}}]}}
    )
    with rs.session() as first, rs.session() as second:
        assert first.assert_facts([HIT]) == []
        assert second.assert_facts([{"t": "milestone", "key": "k"}]) == []
        assert first.sid != second.sid


# --- what the wrapper refuses ------------------------------------------------------------------


def test_registering_a_second_ruleset_with_the_same_name_raises_and_the_first_still_works() -> None:
    name = unique()
    first = CompiledRuleset(name, {"hit": EVENT_RULE})
    with pytest.raises(DurableError, match="already compiled"):
        CompiledRuleset(name, {"other": {"all": [{"m": {"t": "milestone"}}]}})
    assert first.match([HIT]) == [("hit", {"m": HIT})]
    assert first.rule_names == frozenset({"hit"})


def test_a_rule_named_init_is_refused_and_the_name_stays_free() -> None:
    name = unique()
    with pytest.raises(DurableError, match="reserved"):
        CompiledRuleset(name, {INIT_RULE: EVENT_RULE})
    assert CompiledRuleset(name, {"hit": EVENT_RULE}).match([HIT]) == [("hit", {"m": HIT})]


def test_a_rule_carrying_run_is_refused() -> None:
    def action(_: Any) -> None:
        raise AssertionError("never called")

    with pytest.raises(DurableError, match="actions are not supported"):
        CompiledRuleset(unique(), {"hit": {**EVENT_RULE, "run": action}})


def test_more_than_max_rules_rules_are_refused_and_the_name_stays_free() -> None:
    name = unique()
    rules = {
        f"r{i}": {"all": [{"m": {"$and": [{"t": "event"}, {"type": f"x{i}"}]}}]}
        for i in range(MAX_RULES + 1)
    }
    with pytest.raises(DurableError, match=f"more than the {MAX_RULES} allowed"):
        CompiledRuleset(name, rules)
    assert CompiledRuleset(name, {"hit": EVENT_RULE}).match([HIT]) == [("hit", {"m": HIT})]


def test_max_rules_rules_on_one_fact_kind_compile_without_hanging_and_each_fires() -> None:
    # More than 512 rules below one alpha node hang compilation forever: MAX_RULES stays below.
    result = run_python(
        f"""
        from rules.engine.durable import CompiledRuleset, MAX_RULES
        rules = {{
            f"r{{i}}": {{"all": [{{"m": {{"$and": [{{"t": "event"}}, {{"type": f"x{{i}}"}}]}}}}]}}
            for i in range(MAX_RULES)
        }}
        rs = CompiledRuleset({unique()!r}, rules)
        for i in (0, 1, MAX_RULES // 2, MAX_RULES - 1):
            fact = {{"t": "event", "type": f"x{{i}}"}}
            assert rs.match([fact]) == [(f"r{{i}}", {{"m": fact}})], i
        print("done")
        """,
        timeout=120,
    )
    assert_clean_exit(result)


def test_a_fact_without_the_kind_field_is_refused() -> None:
    rs = CompiledRuleset(unique(), {"hit": EVENT_RULE})
    with rs.session() as session, pytest.raises(DurableError, match=repr(FACT_KIND_FIELD)):
        session.assert_facts([HIT, {"type": "hit"}])


def test_a_fact_without_the_kind_field_opens_no_session_that_would_leak() -> None:
    result = run_python(
        f"""
        from rules.engine.durable import CompiledRuleset, DurableError
        rs = CompiledRuleset({unique()!r}, {{"hit": {EVENT_RULE!r}}})
        for i in range(1100):
            try:
                rs.match([{{"type": "hit"}}])
            except DurableError:
                pass
            else:
                raise AssertionError("accepted")
        assert rs.match([{HIT!r}]) == [("hit", {{"m": {HIT!r}}})]
        print("done")
        """
    )
    assert_clean_exit(result)


# Raw rules the session's state fact (or the fact that creates the state) satisfies, and whether
# a real fact satisfies them too.
STATE_RULES = {
    "state_alone": ({"$s": 1}, False),
    "not_exists_alone": ({"$nex": {"zz": 1}}, True),
    "state_and_not_exists": ({"$and": [{"$s": 1}, {"$nex": {"zz": 1}}]}, False),
}


@pytest.mark.parametrize("rule", sorted(STATE_RULES))
def test_a_rule_the_state_fact_satisfies_lets_evaluation_terminate_with_real_firings_only(
    rule: str,
) -> None:
    # The compiler anchors every pattern on `t`, which the state fact lacks, and the wrapper
    # refuses facts without `t` (above): only a raw rule can test the state fact. The notes report
    # such a rule re-firing forever under durable's own Host; the wrapper never updates the state
    # for it, so the assert returns. Such a rule fires while the session is initialised (for the
    # state, and for the `$none` fact that creates it); those firings are discarded, so what an
    # assert returns is exactly the firings on the real facts it asserted, batch by batch.
    condition, real_facts_match = STATE_RULES[rule]
    result = run_python(
        f"""
        from rules.engine.durable import CompiledRuleset
        HIT = {HIT!r}
        rs = CompiledRuleset(
            {unique()!r},
            {{"r": {{"all": [{{"m": {condition!r}}}]}}, "hit": {EVENT_RULE!r}}},
        )

        def expected(facts):
            fired = [("r", {{"m": f}}) for f in facts if {real_facts_match!r} and "zz" not in f]
            return sorted(fired + [("hit", {{"m": f}}) for f in facts if f == HIT], key=repr)

        batches = ([], [{{"t": "event", "zz": 1}}], [{{"t": "event"}}], [HIT, {{"t": "case"}}])
        for facts in batches:
            for _ in range(3):
                assert sorted(rs.match(facts), key=repr) == expected(facts), facts
        with rs.session() as session:
            for facts in (*batches, *reversed(batches)):
                fired = session.assert_facts(facts)
                assert sorted(fired, key=repr) == expected(facts), (facts, fired)
        print("done")
        """,
        timeout=30,
    )
    assert_clean_exit(result)
    assert result.stdout.strip() == "done"


def test_a_malformed_ruleset_raises_durable_error_and_does_not_crash() -> None:
    result = run_python(
        f"""
        from rules.engine.durable import CompiledRuleset, DurableError
        malformed = [
            {{"r": {{"all": [{{"m": {{"$and": [{{"t": "event"}}, {{"$foo": {{"x": 1}}}}]}}}}]}}}},
            {{"r": {{"all": [{{"m": 3}}]}}}},
            {{"r": {{"any": 5}}}},
        ]
        for index, rules in enumerate(malformed):
            name = {unique()!r} + str(index)
            try:
                CompiledRuleset(name, rules)
            except DurableError as error:
                assert "refused ruleset" in str(error), error
            else:
                raise AssertionError(f"accepted {{rules}}")
            # The refused name is not taken.
            fixed = CompiledRuleset(name, {{"hit": {EVENT_RULE!r}}})
            assert fixed.match([{HIT!r}]) == [("hit", {{"m": {HIT!r}}})]
        print("done")
        """
    )
    assert_clean_exit(result)


def test_an_unknown_operator_is_refused_in_process_with_durable_error() -> None:
    with pytest.raises(DurableError, match="error code"):
        CompiledRuleset(
            unique(), {"r": {"all": [{"m": {"$and": [{"t": "e"}, {"$foo": {"x": 1}}]}}]}}
        )


# --- threads and processes ---------------------------------------------------------------------


def test_many_evaluations_start_no_thread_and_no_durable_host() -> None:
    result = run_python(
        f"""
        import sys, threading
        from rules.engine.durable import CompiledRuleset
        rs = CompiledRuleset({unique()!r}, {{"hit": {EVENT_RULE!r}}})
        for _ in range(2000):
            assert rs.match([{HIT!r}, {MISS!r}]) == [("hit", {{"m": {HIT!r}}})]
        assert threading.active_count() == 1, threading.enumerate()
        loaded = sorted(m for m in sys.modules if m == "durable" or m.startswith("durable."))
        assert loaded == [], loaded
        print("done")
        """
    )
    assert_clean_exit(result)


def test_actions_never_run_on_another_thread_in_this_process() -> None:
    rs = CompiledRuleset(unique(), {"hit": EVENT_RULE})
    before = threading.active_count()
    for _ in range(500):
        assert rs.match([HIT]) == [("hit", {"m": HIT})]
    assert threading.active_count() == before


def test_eight_threads_evaluating_at_once_each_get_exactly_their_own_firings() -> None:
    # Two sessions sharing a sid from two threads crash the process: run it in a child.
    result = run_python(
        f"""
        import threading
        from rules.engine.durable import CompiledRuleset
        THREADS, ROUNDS = 8, 500
        rules = {{"any_event": {{"all": [{{"m": {{"t": "event"}}}}]}}}}
        for k in range(THREADS):
            rules[f"thread{{k}}"] = {{"all": [
                {{"m": {{"$and": [{{"t": "event"}}, {{"type": f"thread{{k}}"}}]}}}},
                {{"c": {{"$and": [{{"t": "case"}}, {{"owner": k}}]}}}},
            ]}}
        rs = CompiledRuleset({unique()!r}, rules)
        errors = []
        start = threading.Barrier(THREADS)

        def work(k):
            start.wait()
            try:
                for n in range(ROUNDS):
                    case = {{"t": "case", "owner": k, "n": n}}
                    event = {{"t": "event", "type": f"thread{{k}}", "n": n}}
                    fired = sorted(rs.match([case, event]), key=lambda m: m[0])
                    expected = [("any_event", {{"m": event}}),
                                (f"thread{{k}}", {{"m": event, "c": case}})]
                    if fired != expected:
                        errors.append((k, n, fired))
            except BaseException as error:
                errors.append((k, repr(error)))

        threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors[:5]
        print("done")
        """,
        timeout=120,
    )
    assert_clean_exit(result)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_ruleset_compiled_before_fork_works_in_the_child() -> None:
    result = run_python(
        f"""
        import os
        from rules.engine.durable import CompiledRuleset
        rs = CompiledRuleset({unique()!r}, {{"hit": {EVENT_RULE!r}}})
        assert rs.match([{HIT!r}]) == [("hit", {{"m": {HIT!r}}})]
        children = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    for _ in range(1100):
                        assert rs.match([{HIT!r}]) == [("hit", {{"m": {HIT!r}}})]
                        assert rs.match([]) == []
                    code = 0
                finally:
                    os._exit(code)
            children.append(pid)
        for pid in children:
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0, status
        assert rs.match([{HIT!r}]) == [("hit", {{"m": {HIT!r}}})]
        print("done")
        """
    )
    assert_clean_exit(result)


# --- a failed assert -----------------------------------------------------------------------------

# durable_rules refuses some batches at run time: error 311 (a comparison whose reference names a
# field the referenced fact lacks) and error 303 (one fact passing more than 64 alpha nodes).
# compile_condition keeps both out of compiled packs (tests/engine/test_conditions_oracle.py), but
# a raw ruleset still meets them. Session.assert_facts turns both into DurableError; the C state of
# that sid was created by then, so it must still be deleted, or after 1,024 such failures every
# evaluation on the ruleset raises MemoryError. Deleting a state in which no action ran segfaults:
# the session therefore runs $init in a batch of its own before the first real one.
REF_TO_MISSING = {
    "r": {
        "all": [
            {"a": {"t": "event"}},
            {"b": {"$and": [{"t": "new_element"}, {"$gt": {"date": {"a": "date"}}}]}},
        ]
    }
}


def test_a_batch_durable_refuses_at_run_time_raises_durable_error() -> None:
    rs = CompiledRuleset(unique(), REF_TO_MISSING)
    with pytest.raises(DurableError, match="error code: 311"):
        rs.match([{"t": "event"}, {"t": "new_element", "date": "2026-01-05"}])


@pytest.mark.parametrize("first_batch", ["bad", "good_then_bad"])
def test_a_session_whose_assert_durable_refused_is_deleted_so_the_ruleset_survives(
    first_batch: str,
) -> None:
    # 2,100 refused evaluations on one ruleset: the 1,025th only works if each was deleted.
    result = run_python(
        f"""
        from rules.engine.durable import CompiledRuleset, DurableError, MAX_LIVE_SESSIONS
        rs = CompiledRuleset({unique()!r}, {REF_TO_MISSING!r})
        element = {{"t": "new_element", "date": "2026-01-05"}}
        bad = [{{"t": "event"}}, element]
        good = [{{"t": "event", "date": "2026-01-01"}}, element]
        refused = 0
        for i in range(2 * MAX_LIVE_SESSIONS + 52):
            try:
                with rs.session() as session:
                    if {first_batch!r} == "good_then_bad":
                        assert len(session.assert_facts(good)) == 1
                    session.assert_facts(bad)
            except DurableError as error:
                assert "error code: 311" in str(error), error
                refused += 1
        assert refused == 2 * MAX_LIVE_SESSIONS + 52, refused
        assert rs.match(good) == [("r", {{"a": good[0], "b": element}})]
        print("done")
        """
    )
    assert_clean_exit(result)
    assert result.stdout.strip() == "done"


# --- retiring a ruleset frees its memory ---------------------------------------------------------


def test_a_retired_ruleset_refuses_new_sessions() -> None:
    rs = CompiledRuleset(unique(), {"hit": EVENT_RULE})
    assert rs.match([HIT]) == [("hit", {"m": HIT})]
    rs.retire()
    with pytest.raises(RulesetRetired), rs.session():
        pass


def test_a_session_open_when_its_ruleset_is_retired_finishes_before_the_ruleset_is_freed() -> None:
    rs = CompiledRuleset(unique(), {"hit": EVENT_RULE})
    with rs.session() as session:
        rs.retire()
        assert session.assert_facts([HIT]) == [("hit", {"m": HIT})]
    with pytest.raises(RulesetRetired), rs.session():
        pass


def test_recompiling_the_shipped_pack_200_times_keeps_memory_flat() -> None:
    # Without retire(), each compilation of the shipped pack keeps ~0.3 MB until the process ends.
    result = run_python(
        """
        import json
        from rules.engine.evaluate import compile_pack
        from rules.engine.pack import parse_pack

        pack = parse_pack(json.load(open("rules/packs/asylum-reexamination/pack.json")))

        def rss_mb():
            return int(open("/proc/self/statm").read().split()[1]) * 4096 / 1e6

        compiled = compile_pack(pack)
        for i in range(220):
            if i == 20:
                start = rss_mb()
            old, compiled = compiled, compile_pack(pack)
            old.ruleset.retire()
        print(round(rss_mb() - start, 1))
        """
    )
    assert_clean_exit(result)
    assert float(result.stdout.strip()) < 5, f"grew {result.stdout.strip()} MB over 200 compiles"
