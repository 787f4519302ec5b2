"""DRF throttles that know Vigil's tokens."""

from rest_framework.throttling import SimpleRateThrottle

from apps.core.api.throttling import FailOpenThrottleMixin
from apps.tenancy.models import ApiToken


class TokenRateThrottle(FailOpenThrottleMixin, SimpleRateThrottle):
    """Per API token (scope `token`, API_TOKEN_RATE_LIMIT): one integration's runaway loop is slowed down
    on its own token, without using up the rate of the user's other tokens or sessions. Requests that are
    not token-authenticated are left to the per-user throttle. Open while the cache (Redis) is unreachable
    (apps/core/api/throttling.py)."""

    scope = "token"

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}
