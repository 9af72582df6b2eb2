"""The one-line detail a failed test's report gives its result (``sergio_kit.reports.results._detail``):
Schemathesis findings, the assertion's message, an exception group's first error (not its border), or
the rendering's last line; a skip's reason.

The reports are real ``pytest.TestReport`` objects; a raised exception's is rendered by pytest itself
(:func:`rendered`), as the long tracebacks of a failed test are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sergio_kit.reports.results import _detail

BORDER_CHARACTERS = set("+-| ")


def report(longrepr: Any, outcome: Literal["passed", "failed", "skipped"] = "failed") -> pytest.TestReport:
    """The call-phase report of a test with ``outcome`` and ``longrepr``."""
    location = ("tests/test_x.py", 1, "test_x")
    return pytest.TestReport("tests/test_x.py::test_x", location, {}, outcome, longrepr, "call")


def rendered(raise_it: Callable[[], object]) -> Any:
    """What pytest renders for the exception ``raise_it`` raises (the long style of a failed test)."""
    with pytest.raises(BaseException) as raised:
        raise_it()
    return raised.getrepr(style="long")


def raise_group() -> None:
    """Raise an exception group of an assertion and a value error."""
    raise ExceptionGroup("two errors", [AssertionError("first inner"), ValueError("second inner")])


def flaky_property() -> None:
    """Run a Hypothesis property that fails on its first call only: Hypothesis raises FlakyFailure, an
    exception group whose rendering has a plain traceback inside its border."""
    calls: list[int] = []

    @settings(database=None)
    @given(st.just(0))
    def property_under_test(value: int) -> None:
        calls.append(value)
        assert len(calls) != 1, "only the first call fails"

    property_under_test()


def test_a_flaky_failure_is_named_by_its_cause_not_its_border() -> None:
    """A Hypothesis FlakyFailure ends in its group's border (``+---``): the detail is the error the
    first call raised (what the user needs to know), not the group's line."""
    longrepr = rendered(flaky_property)
    text = str(longrepr)
    assert "+------" in text and "\n  | " in text  # the group's borders, as pytest prints them
    assert set(text.strip().splitlines()[-1]) <= BORDER_CHARACTERS
    assert "FlakyFailure" in text
    assert _detail(report(longrepr)) == "AssertionError: only the first call fails"


def test_an_exception_group_is_named_by_its_first_inner_error() -> None:
    """A plain exception group's detail is its first inner error line, never a border."""
    longrepr = rendered(raise_group)
    assert set(str(longrepr).strip().splitlines()[-1]) <= BORDER_CHARACTERS
    assert _detail(report(longrepr)) == "AssertionError: first inner"


def test_the_first_inner_error_names_a_group_whose_own_line_names_no_error() -> None:
    """Inside a group whose own line does not read as an error, the first inner error names it."""
    text = (
        "+ Exception Group Traceback (most recent call last):\n"
        '  |   File "tests/test_x.py", line 3, in test_x\n'
        "  | tests.test_x.Outcomes: two outcomes (2 sub-exceptions)\n"
        "  +-+---------------- 1 ----------------\n"
        "    | AssertionError: first inner\n"
        "    +---------------- 2 ----------------\n"
        "    | ValueError: second inner\n"
        "    +------------------------------------"
    )
    assert _detail(report(text)) == "AssertionError: first inner"


def test_schemathesis_findings_are_listed_with_their_curl() -> None:
    """Schemathesis's findings (``- ST...`` lines, inside a group's border or not) are the detail, each
    once, with the curl line to reproduce them."""
    text = (
        "+ Exception Group Traceback (most recent call last):\n"
        "  | schemathesis.core.failures.FailureGroup: Schemathesis found 2 distinct failures\n"
        "  | - ST001 Server error\n"
        "  |\n"
        "  | - ST002 Response violates schema\n"
        "  |\n"
        "  | - ST001 Server error\n"
        "  |\n"
        "  | Reproduce with:\n"
        "  |\n"
        "  |     curl -X GET https://sergio.test/v1/jobs\n"
        "  +------------------------------------"
    )
    assert _detail(report(text)) == (
        "ST001 Server error; ST002 Response violates schema | reproduce: curl -X GET https://sergio.test/v1/jobs"
    )


def test_an_assertion_is_named_by_its_message() -> None:
    """A failed assertion's detail is its message (pytest's ``E`` line), without ``AssertionError:``."""

    def fail() -> None:
        assert 1 + 1 == 3, "the numbers differ"

    assert _detail(report(rendered(fail))) == "the numbers differ"


def test_a_plain_error_is_named_by_its_e_line() -> None:
    """Any other error's detail is its first ``E`` line: its type and message."""

    def fail() -> None:
        raise KeyError("token")

    assert _detail(report(rendered(fail))) == "KeyError: 'token'"


def test_any_other_rendering_is_named_by_its_last_line() -> None:
    """A rendering with no finding, no ``E`` line and no error line is named by its last line."""
    text = "the fixture could not start\n\nthe server's port stayed closed"
    assert _detail(report(text)) == "the server's port stayed closed"


def test_a_skip_is_named_by_its_reason_and_a_pass_by_nothing() -> None:
    """A skip's detail is its reason (without ``Skipped:``); a pass has none."""
    assert _detail(report(("tests/test_x.py", 1, "Skipped: needs a second company"), "skipped")) == (
        "needs a second company"
    )
    assert _detail(report(None, "passed")) == ""
