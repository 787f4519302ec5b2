from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions

from apps.tenancy.models import ApiToken
from apps.tenancy.two_factor import second_factor_step


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` against hashed ApiToken rows; `request.auth` is the ApiToken."""

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user", "tenant")
            .filter(ApiToken.with_key(key), revoked_at__isnull=True)
            .first()
        )
        now = timezone.now()
        # is_live: not revoked, not expired, issued after the user's last password change or deactivation.
        if token is None or not token.is_live(now):
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        # Touch at most once a minute so a busy integration does not write on every request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class SecondFactorRequired(exceptions.PermissionDenied):
    default_detail = (
        "Two-factor authentication required: enter a code from your authenticator app in the web app "
        "(or set one up there) before using the API with this session. API tokens are not affected."
    )
    default_code = "second_factor_required"


class SessionAuthentication(authentication.SessionAuthentication):
    """A browser session (CSRF enforced, as DRF does), refused with 403 while it owes a second factor
    (apps.tenancy.two_factor): a password alone does not open the API to somebody who must use one, or has
    set one up. Token-authenticated requests never get here: the token is tried first."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and second_factor_step(request._request) is not None:
            raise SecondFactorRequired()
        return result


class SessionAuthenticationScheme(SessionScheme):
    """The OpenAPI schema documents it as the browser session (cookieAuth) it is."""

    target_class = SessionAuthentication
