"""The published rate-limit facts: the rolling window and each tier's quota.

The one place for them: the reference server, the checks, the load scenarios and the reports all read
these (a target's own quotas come from the ``tier_limits`` setting, on top of these defaults).
"""

from __future__ import annotations

import types
from collections.abc import Mapping

#: Length of the rolling rate-limit window, in seconds.
WINDOW_SECONDS = 60
#: Requests per window of each rate-limit tier, as published.
DEFAULT_TIER_LIMITS: Mapping[str, int] = types.MappingProxyType(
    {"auth": 10, "read": 120, "write": 60, "webhook": 10, "bulk": 10}
)
