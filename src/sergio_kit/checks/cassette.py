"""``cassette.*``: the recorded cassettes replay offline and still satisfy the contract, and hold no
secret. They read files, not the target: a folder of cassettes (``--cassettes``, default
``fixtures/cassettes``) recorded by ``sergio-kit record``. vcrpy is imported only when they run.
"""

from __future__ import annotations

from pathlib import Path

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import check
from sergio_kit.contract.document import packaged_contract
from sergio_kit.reports.findings import CheckSkipped

SHOWN = 5  # problems spelled out in the finding; the rest are counted


def cassette_folder(ctx: CheckContext) -> Path:
    """The folder of cassettes to check; skips when there is none."""
    from sergio_kit.cassettes.replay import cassette_files

    folder = ctx.target.cassette_dir
    if folder is None or not folder.is_dir() or not cassette_files(folder):
        raise CheckSkipped(
            f"no cassettes in {folder or 'fixtures/cassettes'}: record some with sergio-kit record --out "
            "FOLDER and point --cassettes (or SERGIO_CASSETTES) at it"
        )
    return folder


def known_secrets(ctx: CheckContext) -> list[str]:
    """The secrets the kit knows for this target: both tenants' passwords, the supplied API keys, the
    signing secret, and a line of the private signing key (any line of a leaked PEM gives it away)."""
    found = [ctx.target.account.password]
    if ctx.target.other_account is not None:
        found.append(ctx.target.other_account.password)
    found += [key for key in (ctx.target.api_key, ctx.target.read_only_api_key) if key]
    if ctx.target.jwt_secret:
        found.append(ctx.target.jwt_secret.decode())
    if ctx.target.jwt_private_key:
        body = [line for line in ctx.target.jwt_private_key.decode().splitlines() if "-----" not in line]
        found += body[:1]
    return found


@check("cassette.replay", basis="contract")
def replay(ctx: CheckContext) -> None:
    """Every recorded exchange replays offline (network blocked) and satisfies the current contract:
    documented status, body schema, required headers (the contract in force: ``--contract``)."""
    from sergio_kit.cassettes.replay import replay_folder  # vcrpy: imported only when it is needed
    from sergio_kit.cassettes.validate import ContractValidator

    folder = cassette_folder(ctx)
    # cassettes may hold operations a user's (or a variant-reduced) contract lacks: those are not judged
    only_declared = ctx.contract is not packaged_contract()
    results = replay_folder(folder, ContractValidator(ctx.contract, only_declared=only_declared))
    problems = [problem for result in results for problem in result.problems]
    if problems:
        interactions = sum(result.interactions for result in results)
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        ctx.fail(
            f"{len(problems)} problem(s) in {len(results)} cassette(s), {interactions} interactions, under "
            f"{folder}: " + "; ".join(problems[:SHOWN]) + more,
            expected="every recorded response replays and matches the contract",
        )


# documented: the README promises committed cassettes hold no secret; a leak is never only a warning
@check("cassette.redaction", basis="documented")
def redaction(ctx: CheckContext) -> None:
    """No cassette holds a JWT, refresh token, API key, webhook secret or a known password."""
    from sergio_kit.cassettes.scan import scan_path

    folder = cassette_folder(ctx)
    leaks = scan_path(folder, known_secrets(ctx))
    if leaks:
        shown = "; ".join(f"{leak.file}:{leak.line} {leak.kind}" for leak in leaks[:SHOWN])
        more = f" (and {len(leaks) - SHOWN} more)" if len(leaks) > SHOWN else ""
        ctx.fail(
            f"{len(leaks)} secret(s) in the cassettes under {folder}: {shown}{more}",
            expected="every secret replaced by <redacted:KIND:N> (record with sergio-kit record)",
        )
