"""The pytest plugin as a user's test repository sees it: its options, markers, settings and fixtures.

Each test writes a small test module with ``pytester`` and runs pytest on it, with the plugin loaded
from its ``pytest11`` entry point as in any repository that installs sergio-kit.
"""

from __future__ import annotations

import pytest

from sergio_kit.config import MARKERS
from sergio_kit.plugin import CHECK_MARKER, OPTIONS
from tests.support.environment import isolate_settings

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def no_sergio_environment(monkeypatch: pytest.MonkeyPatch, pytester: pytest.Pytester) -> None:
    """No ``SERGIO_*`` variable of this session (the plugin exports one) reaches the inner runs."""
    isolate_settings(monkeypatch, pytester.path, {})


def test_help_lists_the_sergio_options(pytester: pytest.Pytester) -> None:
    """``pytest --help`` shows the sergio-kit option group with every ``--sergio-*`` option."""
    result = pytester.runpytest("--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["sergio-kit: the Sergio API target:"])
    for option in [*OPTIONS.values(), "--sergio-embedded-fault"]:
        result.stdout.fnmatch_lines([f"*{option}*"])


def test_markers_are_declared(pytester: pytest.Pytester) -> None:
    """Every group marker and the check-id marker pass ``--strict-markers``; an unknown one does not."""
    tests = [
        f"@pytest.mark.{CHECK_MARKER}('auth.login.shape')\ndef test_check_id():\n    pass\n",
        *(f"@pytest.mark.{group}\ndef test_{group}():\n    pass\n" for group in MARKERS),
    ]
    pytester.makepyfile("import pytest\n\n\n" + "\n\n".join(tests))
    pytester.runpytest("--strict-markers").assert_outcomes(passed=len(tests))

    pytester.makepyfile(
        test_unknown="import pytest\n\n\n@pytest.mark.sergio_nonsense\ndef test_x():\n    pass\n"
    )
    result = pytester.runpytest("--strict-markers", "test_unknown.py")
    result.stdout.fnmatch_lines(["*'sergio_nonsense' not found in `markers` configuration option*"])


@pytest.mark.parametrize(
    ("layers", "expected"),
    [((), 25), (("file",), 9), (("file", "env"), 8), (("file", "env", "option"), 7)],
    ids=["default", "config-file", "environment-over-file", "option-over-environment"],
)
def test_sergio_config_sees_the_settings_in_force(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, layers: tuple[str, ...], expected: int
) -> None:
    """``sergio_config`` holds the value of the highest layer given: option > SERGIO_* > config file."""
    if "file" in layers:
        pytester.makefile(".toml", **{"sergio-kit": "max_examples = 9\n"})
    if "env" in layers:
        monkeypatch.setenv("SERGIO_MAX_EXAMPLES", "8")
    arguments = ["--sergio-max-examples=7"] if "option" in layers else []
    pytester.makepyfile(
        f"""
        def test_value(sergio_config):
            assert sergio_config.max_examples == {expected}
        """
    )
    pytester.runpytest(*arguments).assert_outcomes(passed=1)


def test_plugin_fixture_and_header_follow_the_precedence(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a user repo ``sergio_config`` resolves options > env > sergio-kit.toml; the header hides secrets."""
    monkeypatch.setenv("SERGIO_ONLY", "auth")
    monkeypatch.setenv("SERGIO_JWT_SECRET", "s3cret-jwt")
    pytester.makefile(".toml", **{"sergio-kit": "only = 'webhook'\nmax-examples = 6\n"})
    pytester.makepyfile(
        '''
        def test_settings(sergio_config):
            """The fixture returns the resolved settings."""
            assert sergio_config.only == ("auth",)
            assert sergio_config.max_examples == 3
            assert sergio_config.jwt_secret == "s3cret-jwt"
            assert sergio_config.base_url is None
        '''
    )
    result = pytester.runpytest("--sergio-max-examples", "3", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["sergio-kit target: embedded reference server*", "sergio-kit groups: auth; max examples: 3"]
    )
    assert "s3cret-jwt" not in result.stdout.str()


@pytest.mark.parametrize(
    ("variable", "value"), [("SERGIO_BASE_URL", "ftp://sergio.example.com"), ("SERGIO_MAX_EXAMPLES", "lots")]
)
def test_a_configuration_error_is_one_line_in_the_header(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """A bad setting is named on one header line, without a traceback; the tests that use
    ``sergio_config`` error, the ones that do not need the target still run."""
    monkeypatch.setenv(variable, value)
    pytester.makepyfile(
        '''
        def test_needs_settings(sergio_config):
            """Errors: the settings are invalid."""

        def test_without_target():
            """Unaffected by sergio settings."""
        '''
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"sergio-kit: configuration error: {variable} has value '{value}'*"])
    assert "Traceback" not in result.stdout.str()


def test_sergio_client_reaches_the_embedded_server(pytester: pytest.Pytester) -> None:
    """Without a base URL, ``sergio_client`` talks to the embedded reference server the plugin starts
    (TLS verified against its CA) and the server is stopped after the run."""
    pytester.makepyfile(
        """
        def test_health(sergio_client):
            response = sergio_client.get("/v1/health")
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "ok"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.fixture
def check_modules_imported() -> None:
    """Import the check modules here first: an in-process pytester run drops the modules it imported
    when it ends, while the registry keeps their checks, so a later import would register them twice."""
    from sergio_kit.checks.registry import all_checks

    all_checks()


@pytest.mark.usefixtures("check_modules_imported")
def test_check_levels_and_strict_through_the_plugin(pytester: pytest.Pytester) -> None:
    """``--sergio-check-level`` (repeatable) reaches ``sergio_config`` and the header; a check that warned
    passes the run, unless ``--sergio-strict``."""
    pytester.makepyfile(
        """
        def test_levels(sergio_config, record_property):
            levels = {"auth.login.shape": "ignore", "ratelimit.window": "warn"}
            assert dict(sergio_config.check_levels) == levels
            record_property("verdict", "warned")  # as the kit's checks do on a warning
        """
    )
    levels = ["--sergio-check-level", "auth.login.shape=ignore", "--sergio-check-level=ratelimit.window=warn"]
    result = pytester.runpytest(*levels)
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "sergio-kit check levels changed: auth.login.shape ignore, ratelimit.window warn",
            "sergio-kit: 1 check(s) warned; warnings alone pass (strict fails them)",
        ]
    )
    strict = pytester.runpytest(*levels, "--sergio-strict")
    strict.assert_outcomes(passed=1)
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.stdout.fnmatch_lines(["sergio-kit: 1 check(s) warned; strict: the run fails"])


@pytest.mark.usefixtures("check_modules_imported")
def test_an_unknown_check_level_id_is_one_line(pytester: pytest.Pytester) -> None:
    """A level for a check that does not exist: one header line with a did-you-mean; the tests that need
    the settings error, the others run."""
    pytester.makepyfile("def test_needs(sergio_config):\n    pass\n\n\ndef test_plain():\n    pass\n")
    result = pytester.runpytest("--sergio-check-level", "auth.jwt.alg_nun=warn")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "sergio-kit: configuration error: --sergio-check-level has unknown check 'auth.jwt.alg_nun': "
            "did you mean 'auth.jwt.alg_none'? see sergio-kit check --list-checks"
        ]
    )
