from django.utils import timezone
from rest_framework import authentication, exceptions

from apps.tenancy.models import ApiToken, hash_token


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` against hashed ApiToken rows; `request.auth` is the ApiToken."""

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user", "tenant")
            .filter(key_hash=hash_token(key), revoked_at__isnull=True)
            .first()
        )
        now = timezone.now()
        if token is None or (token.expires_at is not None and token.expires_at <= now):
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        # Touch at most once a minute so a busy integration does not write on every request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
