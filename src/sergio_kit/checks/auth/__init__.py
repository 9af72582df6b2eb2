"""``auth.*``: the login, the bearer header and JWT verification.

Forged tokens start from a real token of the primary tenant: its claims and header decoded without
verification, one thing changed (see :mod:`sergio_kit.checks.auth.strategies`). The first forgery of a check
goes to every operation the contract protects with ``bearerAuth`` (one forgotten guard is the
classic bug), the others to one read operation, and after them the real token must still work.
Checks that re-sign claims need the target's signing secret; checks about time need its test clock.

Modules: :mod:`~sergio_kit.checks.auth.login` (``auth.login.*``), :mod:`~sergio_kit.checks.auth.bearer`
(``auth.bearer.*``), :mod:`~sergio_kit.checks.auth.jwt` (``auth.jwt.*``),
:mod:`~sergio_kit.checks.auth.tokens` (``auth.token_kind``, ``auth.expiry.live``); the machinery they
share is in :mod:`~sergio_kit.checks.auth.forgeries`, the Hypothesis strategies in
:mod:`~sergio_kit.checks.auth.strategies`.
"""
