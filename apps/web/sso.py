"""Single sign-on's audit trail and lockout (the web sign-in's counterpart: apps/web/lockout.py).

Every completed single sign-on publishes `auth.sso_login` (actor: the person; data: issuer, subject, whether
the provider asserted multi-factor authentication, whether the account was created or linked, the
membership changes), every refused one `auth.sso_login_failed` (the reason: invalid_state, invalid_token,
provider_refused (the person cancelled), provider_unavailable, provider_request_failed, no_account,
inactive, service_account, ...). Both are platform-chain
events with the channel "sso".

Lockout: failures are counted per client address in the sign-in lockout's table (SignInThrottle, under the
pseudo-username "(sso)", which no real username can be); SSO_LOCK_FAILURES of them within LOCKOUT_WINDOW
lock single sign-on from that address for LOCKOUT_DURATION (`auth.locked`). There is no password to guess
here (state, nonce and PKCE bind each answer to the browser that asked, the provider locks its own
sign-in), so the threshold is high: it stops a script hammering the callback without letting a few stale
browser tabs lock out everybody behind one office address. Answers where the provider itself reports an
error (the person cancelled) are audited but not counted."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.core.events import publish
from apps.tenancy.oidc import SsoFailure, SsoSuccess
from apps.tenancy.sso import sso_origin
from apps.web import lockout
from apps.web.models import SignInThrottle

SSO_THROTTLE_KEY = "(sso)"
SSO_LOCK_FAILURES = 20


def sso_locked_until(*, ip: str):
    return lockout.locked_until(username=SSO_THROTTLE_KEY, ip=ip)


@transaction.atomic
def sso_signin_failed(*, ip: str, failure: SsoFailure, counts: bool = True) -> SignInThrottle:
    now = timezone.now()
    throttle, _ = SignInThrottle.objects.select_for_update().get_or_create(
        username=SSO_THROTTLE_KEY, ip=ip or "", defaults={"window_started_at": now}
    )
    locks = False
    if counts:
        if throttle.window_started_at <= now - lockout.LOCKOUT_WINDOW:
            throttle.failures, throttle.window_started_at = 0, now
        throttle.failures += 1
        locks = throttle.failures >= SSO_LOCK_FAILURES and not (
            throttle.locked_until and throttle.locked_until > now
        )
        if locks:
            throttle.locked_until = now + lockout.LOCKOUT_DURATION
            throttle.failures, throttle.window_started_at = 0, now
        throttle.save()
    data = {
        "ip": throttle.ip,
        "reason": failure.reason,
        "detail": failure.detail,
        "issuer": failure.issuer,
        "subject": failure.subject,
    }
    with sso_origin():
        publish(verb="auth.sso_login_failed", actor=None, target=throttle, data=data)
        if locks:
            publish(
                verb="auth.locked",
                actor=None,
                target=throttle,
                data={
                    "username": SSO_THROTTLE_KEY,
                    "ip": throttle.ip,
                    "locked_until": throttle.locked_until.isoformat(),
                },
            )
    return throttle


@transaction.atomic
def sso_signed_in(*, user, success: SsoSuccess) -> None:
    sign_in = success.sign_in
    with sso_origin():
        publish(
            verb="auth.sso_login",
            actor=user,
            target=user,
            data={
                "issuer": success.issuer,
                "subject": success.subject,
                "mfa": success.mfa,
                "amr": list(success.amr),
                "acr": success.acr,
                "created": sign_in.created,
                "linked_by_email": sign_in.linked_by_email,
                "membership_changes": [
                    {**change, "tenant": str(change["tenant"])} for change in sign_in.membership_changes
                ],
            },
        )
