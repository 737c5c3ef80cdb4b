"""The author API against odd or hostile job code (issue 14, parts 3c and 4),
tested on the embedded Python source directly (PYTHONPATH=src/py): what
reaches C is clean text, results JSON cannot hold say why, and what one
module body or run changes for the others is found and put back."""
import builtins
import sys

import pytest

from jobreg import _context, _runner, jobs
from jobreg._variables import ValidationError


@pytest.mark.parametrize("text, clean", [
    ("plain", "plain"),
    ("h\u00e9llo", "h\u00e9llo"),
    ("a\x00b", "a\\x00b"),
    ("bad \ud800 here", "bad \\ud800 here"),
    ("\udcff\x00\u00e9", "\\udcff\\x00\u00e9"),
])
def test_clean_text_escapes_lone_surrogates_and_nuls_only(text, clean):
    assert _context.clean_text(text) == clean
    _context.clean_text(text).encode("utf-8")  # valid UTF-8, always


def test_clean_text_of_what_is_no_str_or_cannot_be_shown():
    class Hostile:
        def __str__(self):
            raise SystemExit("no")

    class Odd(str):
        def __contains__(self, item):
            raise RuntimeError("no")

    assert _context.clean_text(5) == "5"
    assert _context.clean_text(Hostile()) == "<Hostile>"
    assert _context.clean_text(Odd("a\x00")) == "a\\x00"


def test_log_extra_is_json_c_can_take():
    extra = _runner._clean_extra({"k\ud800": "v\x00", "n": float("nan"), "i": float("-inf"),
                                  "x": 1.5, "b": True, "z": None, "o": [1]})
    assert extra == {"k\\ud800": "v\\x00", "n": "nan", "i": "-inf", "x": 1.5, "b": True,
                     "z": None, "o": "[1]"}


@pytest.mark.parametrize("value, why", [
    (float("nan"), "the result holds NaN"),
    ({"a": [1, {"b": float("inf")}]}, "the result holds Infinity"),
    ((float("-inf"),), "the result holds -Infinity"),
])
def test_a_result_with_nan_or_infinity_is_a_failed_outcome_saying_which(value, why):
    outcome = _runner._result_json(value)
    assert outcome[0] == "failed" and outcome[1] == "ValueError" and why in outcome[2]


def test_a_result_nested_too_deep_is_a_failed_outcome_saying_so():
    deep = []
    for _ in range(100000):
        deep = [deep]
    outcome = _runner._result_json(deep)
    assert outcome[:2] == ("failed", "RecursionError")
    assert f"nested deeper than {sys.getrecursionlimit()} levels" in outcome[2]


def test_empty_data_json_is_refused_and_none_is_an_empty_object():
    assert _runner._parse(None) == {}
    with pytest.raises(ValidationError,
                       match=r"data_json is empty: give a JSON object, e\.g\. \{\}"):
        _runner._parse("")
    with pytest.raises(ValidationError, match="nested deeper than"):
        _runner._parse("[" * 100000 + "]" * 100000)


def test_a_validation_message_holds_no_nul_or_lone_surrogate():
    message = str(ValidationError({"a\x00": "bad \ud800"}))
    assert message == "a\\x00: bad \\ud800"


def test_the_failure_of_an_unprintable_exception_is_an_outcome():
    class Unprintable(Exception):
        def __str__(self):
            raise SystemExit("no str")

        def __repr__(self):
            raise KeyboardInterrupt

    outcome = _runner._failure(Unprintable())
    assert outcome[0] == "failed" and outcome[1] == "Unprintable"
    assert outcome[2] == "<Unprintable>"


def test_the_guard_puts_back_what_a_body_replaced_and_says_what():
    guard = _context.guard
    original_register, original_print = jobs.register_jobs, builtins.print
    state = guard.enter("a_module", True)
    jobs.register_jobs = lambda *classes: None
    del builtins.print
    changes = guard.leave(state)
    assert changes == ["deleted builtins.print", "replaced jobreg.jobs.register_jobs"]
    assert jobs.register_jobs is original_register and builtins.print is original_print
    assert _context.describe_changes(changes, "", "the loader") == \
        "deleted builtins.print; replaced jobreg.jobs.register_jobs; the loader put them back"
    # Nothing changed: nothing to say.
    state = guard.enter("b_module", True)
    assert guard.leave(state) == []


def test_the_guard_blames_the_body_around_one_that_finds_a_change():
    guard = _context.guard
    original = jobs.Job
    outer = guard.enter("outer", True)
    jobs.Job = None
    inner = guard.enter("inner", True)
    assert guard.leave(inner) == []
    assert guard.leave(outer) == ["replaced jobreg.jobs.Job"]
    assert jobs.Job is original
