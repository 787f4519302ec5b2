"""Rate throttles that let requests through while the cache (Redis) is unreachable.

The throttles' counters live in the cache. When Redis is down, failing every API request would turn a cache
outage into an outage of the whole API, reports included; the outbox already keeps outbound messages until
the broker is back (design rule 8). So the per-user and per-token rates are not enforced for the length of
the outage (logged). The token endpoint's brute-force protection is not relaxed: it answers 503
(apps/core/unavailable.py)."""

import logging

from rest_framework import throttling

from apps.core.unavailable import CACHE_ERRORS

logger = logging.getLogger(__name__)


class FailOpenThrottleMixin:
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            logger.warning("throttle %s not enforced: cache unreachable (%s)", type(self).__name__, exc)
            return True


class UserRateThrottle(FailOpenThrottleMixin, throttling.UserRateThrottle):
    """DRF's per-user rate (API_RATE_LIMIT), open while the cache is unreachable."""
