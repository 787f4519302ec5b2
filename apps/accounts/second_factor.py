"""Whether the signed-in person has passed a second factor in this session.

Two ways count: a django-otp device verified in this session (TOTP or a recovery code), or a single
sign-on whose identity provider asserted multi-factor authentication (the OIDC backend marks the
session with IDP_SECOND_FACTOR_SESSION_KEY)."""

from __future__ import annotations

IDP_SECOND_FACTOR_SESSION_KEY = "vigil_second_factor_by_idp"


def second_factor_satisfied(request) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified) and is_verified():
        return True
    return bool(request.session.get(IDP_SECOND_FACTOR_SESSION_KEY))
