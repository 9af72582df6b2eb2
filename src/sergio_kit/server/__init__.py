"""The reference Sergio server: the kit's embedded default target.

It implements the contract (``contracts/sergio.openapi.yaml``) over real HTTPS with SQLite storage,
exact rate limiting and signed webhook deliveries, and can break one rule at a time
(``--fault <check id>``) so every check of the kit is shown to fail when its rule is broken (the
catalogue: ``docs/checks.md``). It never imports the kit's checks.
"""
