"""``sergio-kit record``: record the scripted tour into redacted vcrpy cassettes, one per flow.

Without ``--base-url`` the embedded reference server is started (test clock on, so the 429 costs no
waiting) and stopped afterwards. A live target takes its settings through the kit's one precedence
(:func:`sergio_kit.config.load_config`: options > ``SERGIO_*`` > config file > defaults): the login
from ``SERGIO_EMAIL``/``SERGIO_PASSWORD``, an optional second tenant from
``SERGIO_OTHER_EMAIL``/``SERGIO_OTHER_PASSWORD``, the test clock and the webhook receiver's
certificate when configured.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sergio_kit.cli.settings import add_setting_options, resolve_settings
from sergio_kit.config import KitConfig
from sergio_kit.errors import SergioKitError

if TYPE_CHECKING:  # vcrpy and the targets load only when recording, not with every sergio-kit command
    from sergio_kit.cassettes.record import Recorded
    from sergio_kit.cassettes.tour import Flow
    from sergio_kit.contract.document import Contract

DEFAULT_OUT = Path("fixtures/cassettes")


HELP = "record the scripted tour of every operation into redacted vcrpy cassettes, one per flow"
DESCRIPTION = (
    "Drive a scripted tour of every contract operation (auth, jobs, bulk, webhooks, "
    "api-keys, zapier, ratelimit, health, errors; a flow whose operations the contract in force, "
    "--contract, does not declare is left out, and said so) through a TLS-verifying httpx client under vcrpy "
    "and write one cassette per flow, every secret replaced by a <redacted:KIND:N> placeholder. "
    "Without --base-url the embedded reference server is started (its seeded accounts, test clock "
    "and webhook receiver certificate). A live target takes its login from SERGIO_EMAIL and "
    "SERGIO_PASSWORD, an optional second tenant from SERGIO_OTHER_EMAIL and SERGIO_OTHER_PASSWORD "
    "(environment or config file, never the command line), SERGIO_RECEIVER_CERT to record a "
    "webhook delivery, SERGIO_CLOCK_URL and SERGIO_CLOCK_TOKEN to give the 429 a fresh window, and "
    "SERGIO_TIER_LIMITS when its bulk quota is not 10. Everything the tour creates is deleted again."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``sergio-kit record``: its settings (from the settings table) and ``--out``."""
    add_setting_options(parser, "record")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="FOLDER",
        help=f"folder for the cassettes, one <flow>.yaml per flow, replaced only when every flow was "
        f"recorded (default {DEFAULT_OUT})",
    )


def run(args: argparse.Namespace) -> int:
    """Record every flow; exit 0 when all were recorded, 1 when the target answered off-script."""
    settings = resolve_settings(args, "record")
    out: Path = args.out
    if settings.base_url is None:
        if args.ca_bundle is not None:
            raise SergioKitError(
                "--ca-bundle only applies to a live target: add --base-url URL, or drop --ca-bundle"
            )
        print(f"sergio-kit record: target the embedded reference server → {out}")
        recorded = _record_embedded(settings, out)
    else:
        print(f"sergio-kit record: target {settings.base_url} → {out}")
        recorded = _record_live(settings, out)
    total = sum(item.interactions for item in recorded)
    print(f"{len(recorded)} cassettes, {total} interactions, secrets redacted: {out}")
    return 0


def _record_embedded(settings: KitConfig, out: Path) -> list[Recorded]:
    from sergio_kit.cassettes.record import record_tour
    from sergio_kit.target.contract import contract_in_force
    from sergio_kit.target.embedded import embedded_target, start_server

    contract = contract_in_force(settings)  # a bad --contract stops here, before the server starts
    with tempfile.TemporaryDirectory(prefix="sergio-record-") as data:
        server = start_server(Path(data), plain_http=False)
        target = None
        try:
            target = embedded_target(server)
            target.contract = contract
            passwords = [
                user["password"] for company in server.credentials()["companies"] for user in company["users"]
            ]
            return record_tour(
                target,
                out,
                known_secrets=passwords,
                stable_server=True,
                unrecorded=[server.clock_url] if server.clock_url else [],
                flows=contract_flows(contract),
                progress=print,
            )
        finally:
            if target is not None:
                target.close()
            server.stop()


def _record_live(settings: KitConfig, out: Path) -> list[Recorded]:
    from sergio_kit.cassettes.record import record_tour
    from sergio_kit.target.live import live_target

    target = live_target(settings)
    if target.receiver_cert is None:
        print("  note: no SERGIO_RECEIVER_CERT, so the webhook delivery is not recorded")
    try:
        passwords = [p for p in (settings.password, settings.other_password) if p]
        return record_tour(
            target,
            out,
            known_secrets=passwords,
            unrecorded=[settings.clock_url] if settings.clock_url else [],
            flows=contract_flows(target.contract),
            progress=print,
        )
    finally:
        target.close()


def contract_flows(contract: Contract) -> list[tuple[str, Flow]]:
    """The tour's flows the contract in force allows; says which are left out, naming what is missing."""
    from sergio_kit.cassettes.tour import flows_for

    flows, left_out = flows_for(contract)
    for name, missing in left_out.items():
        print(f"  left out: the {name} flow (the contract does not declare {', '.join(missing)})")
    if not flows:
        raise SergioKitError(
            f"nothing to record: {contract.source} declares none of the tour's flows; check --contract"
        )
    return flows
