"""The contract in force for a run: the one the user gave (``--contract``), else the packaged one,
minus the operations the embedded server's variants drop (a deployment without them publishes a
contract without them)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sergio_kit.config import KitConfig
from sergio_kit.contract.document import Contract, load_contract, packaged_contract
from sergio_kit.errors import SergioKitError
from sergio_kit.server.variants import UnknownVariantError, Variants

#: Where the embedded server's data folder keeps a reduced contract, for the user to read.
REDUCED_CONTRACT_FILE = "contract.openapi.yaml"


def contract_in_force(settings: KitConfig, variants: Iterable[str] = ()) -> Contract:
    """The contract the run holds the target to: ``settings.contract`` as given (a file, or a URL
    fetched with the CA bundle in force), else :func:`variant_contract` of the embedded server's
    ``variants`` (the packaged contract against a live target)."""
    if settings.contract is not None:
        return load_contract(settings.contract, ca_bundle=settings.ca_bundle)
    return variant_contract(variants if settings.embedded else ())


def variant_contract(variants: Iterable[str]) -> Contract:
    """The packaged contract minus the operations ``variants`` drop (itself when they drop none)."""
    names = sorted(set(variants))
    try:
        removed = Variants(names).removed_operations()
    except UnknownVariantError as error:
        raise SergioKitError(str(error)) from None
    if not removed:
        return packaged_contract()
    droppers = [name for name in names if Variants([name]).removed_operations()]
    return packaged_contract().without(sorted(removed), f"variants {', '.join(droppers)}")


def keep_reduced(contract: Contract, data_dir: Path) -> Path | None:
    """Write ``contract`` into an embedded server's ``data_dir`` when it is not the packaged one, so
    the user can read what the kit held that server to; its path, or ``None``."""
    if contract is packaged_contract():
        return None
    path = data_dir / REDUCED_CONTRACT_FILE
    path.write_text(contract.text(), encoding="utf-8")
    return path
