"""The kit's root exception: user mistakes that end a command with one clear line and exit code 2."""

from __future__ import annotations


class SergioKitError(Exception):
    """A usage, configuration or environment error the user can fix.

    The message says what is wrong and how to fix it; the CLI prints it on one line, without a
    traceback, and exits with :attr:`exit_code`.
    """

    exit_code = 2


class TargetUnreachableError(SergioKitError):
    """The target (or the embedded server) could not be reached or did not start."""


class OutOfTime(BaseException):
    """The run's ``--max-duration`` passed (or would, before a quota frees up): the check that meets it
    ends as an error, reason "out of time". A ``BaseException``, so no check's or Hypothesis's
    ``except Exception`` turns it into a verdict."""
