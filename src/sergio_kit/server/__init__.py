"""The reference Sergio server: the kit's embedded default target.

It implements ../shared/sergio-api.md over real HTTPS with SQLite storage, exact rate limiting and
signed webhook deliveries, and can break one rule at a time (``--fault <check id>``) so every check
of the kit is shown to fail when its rule is broken. It never imports the kit's checks.
"""
