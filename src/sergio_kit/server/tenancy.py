"""The answer for an object the caller's company does not have: 404, as if it did not exist.

With the ``cross-tenant-403`` variant, an object that belongs to another company is answered
``403 forbidden`` instead (an allowed choice: no data leaks, only the object's existence).
"""

from __future__ import annotations

from collections.abc import Callable

from sergio_kit.server.http_errors import ApiError
from sergio_kit.server.state import AppState


def not_yours(state: AppState, what: str, held_elsewhere: Callable[[], bool]) -> ApiError:
    """The error for a ``what`` (``"job"``, ...) the caller's company does not hold: 404, or 403 under
    ``cross-tenant-403`` when ``held_elsewhere()`` says another company holds it."""
    if "cross-tenant-403" in state.settings.variants and held_elsewhere():
        return ApiError(403, f"this {what} belongs to another company")
    return ApiError(404, f"no such {what}")
