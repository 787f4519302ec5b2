"""Whether the signed-in person has passed a second factor in this session, and their second factor itself.

Two ways count: a django-otp device verified in this session (TOTP or a recovery code), or a single
sign-on whose identity provider asserted multi-factor authentication (the OIDC backend marks the
session with IDP_SECOND_FACTOR_SESSION_KEY).

A person has at most one authenticator (a confirmed TOTPDevice, RFC 6238: 6 digits, 30 s steps) and one
set of RECOVERY_CODES one-time recovery codes (a StaticDevice). django-otp stores both as they are: the
TOTP key must be readable to compute codes and is stored sealed; the recovery codes sit in otp_static's
StaticToken rows as keyed digests (its `verify_token` looks them up by value: given the digest), both in
apps/accounts/otp_at_rest.py with a key the database does not hold.

Who must have one is decided above (apps.tenancy.two_factor, by role); how the pages and the API wait for
it is there and in apps.web.middleware. Every change here publishes an audit event in its transaction.
"""

from __future__ import annotations

import math
import re

from django.db import transaction
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY, verify_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.otp_at_rest import recovery_digest
from apps.core.events import publish

IDP_SECOND_FACTOR_SESSION_KEY = "vigil_second_factor_by_idp"
RECOVERY_CODES = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def second_factor_satisfied(request) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified) and is_verified():
        return True
    return bool(request.session.get(IDP_SECOND_FACTOR_SESSION_KEY))


# --------------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------------


def authenticator_of(user) -> TOTPDevice | None:
    """The person's confirmed authenticator, or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_second_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalise_code(code: str) -> str:
    """What people type: spaces and dashes between groups are dropped, letters lower-cased."""
    return re.sub(r"[\s-]+", "", code or "").lower()


def is_totp_code(code: str) -> bool:
    return bool(re.fullmatch(r"\d{6}", code))


# --------------------------------------------------------------------------------------------------
# Writes (services): keyword-only, audited in their transaction
# --------------------------------------------------------------------------------------------------


def _event(verb: str, *, actor, user, **data) -> None:
    publish(verb=verb, actor=actor, target=user, data={"username": user.get_username(), **data})


def authenticator_pending(*, user) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (the same one on every visit until it is confirmed, so
    the QR code a person scanned stays valid while they look for the code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def _new_recovery_codes(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = []
    while len(codes) < RECOVERY_CODES:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    # Stored as keyed digests, never as they are (apps/accounts/otp_at_rest.py).
    StaticToken.objects.bulk_create(StaticToken(device=device, token=recovery_digest(code)) for code in codes)
    return codes


@transaction.atomic
def authenticator_confirm(*, user, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm an enrolment with the first code the app shows. On success the device replaces any earlier
    one, a fresh set of recovery codes is made, and the codes are returned (to be shown once); None when the
    code is wrong."""
    device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user, confirmed=False).first()
    code = normalise_code(code)
    if device is None or not is_totp_code(code):
        return None
    # No brake on a device not in use yet: its key is on the person's screen, there is nothing to guess.
    device.throttle_reset(commit=False)
    if not device.verify_token(code):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    _event("auth.2fa_enrolled", actor=user, user=user, device=device.name, recovery_codes=len(codes))
    return codes


@transaction.atomic
def second_factor_verify(*, user, code: str) -> TOTPDevice | StaticDevice | None:
    """The device that accepts `code` (six digits: the authenticator; anything else: a recovery code, used
    up by this), or None. A used recovery code is audited; a failure is left to the caller, which counts it
    against its lockout and records it with second_factor_failed."""
    code = normalise_code(code)
    if not code or len(code) > 16:
        return None
    if is_totp_code(code):
        candidates = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        candidates = StaticDevice.objects.filter(user=user, confirmed=True)
    given = code if is_totp_code(code) else recovery_digest(code)  # recovery codes are stored as digests
    for device in candidates.order_by("pk"):
        verified = verify_token(user, device.persistent_id, given)
        if verified is not None:
            if isinstance(verified, StaticDevice):
                left = verified.token_set.count()
                _event("auth.2fa_recovery_code_used", actor=user, user=user, recovery_codes_left=left)
            return verified
    return None


def second_factor_failed(*, user, channel: str) -> None:
    """Record a wrong code on the audit trail, inside the caller's transaction (the caller also counts it
    against its lockout: the web sign-in's, or the token endpoint's)."""
    _event("auth.2fa_failed", actor=None, user=user, channel=channel)


def seconds_before_next_try(*, user, code: str) -> int:
    """django-otp's own brake on a device after wrong codes (1, 2, 4 ... seconds): how long before the device
    that would check `code` checks anything again, 0 when it would now."""
    code = normalise_code(code)
    model = TOTPDevice if is_totp_code(code) else StaticDevice
    waits = []
    for device in model.objects.filter(user=user, confirmed=True):
        allowed, details = device.verify_is_allowed()
        if not allowed and details and details.get("locked_until"):
            waits.append((details["locked_until"] - timezone.now()).total_seconds())
    return max(0, math.ceil(max(waits, default=0)))


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    """A new set of recovery codes; the old ones stop working. Only for a person with an authenticator."""
    if not has_second_factor(user):
        raise ValueError("no authenticator: recovery codes come with one")
    codes = _new_recovery_codes(user)
    _event("auth.2fa_recovery_codes_regenerated", actor=user, user=user, recovery_codes=len(codes))
    return codes


@transaction.atomic
def second_factor_remove(*, actor, user, reason: str = "") -> bool:
    """Remove the person's authenticator and recovery codes: by themselves (having just entered a code) or by
    a platform administrator (`manage.py reset_2fa`, for a lost device). Audited as `auth.2fa_removed` resp.
    `auth.2fa_reset`; False when there was nothing to remove."""
    totp = TOTPDevice.objects.filter(user=user)
    static = StaticDevice.objects.filter(user=user)
    had = totp.filter(confirmed=True).exists() or static.exists()
    totp.delete()
    static.delete()
    if had:
        by_self = actor is not None and getattr(actor, "pk", None) == user.pk
        verb = "auth.2fa_removed" if by_self else "auth.2fa_reset"
        _event(verb, actor=actor, user=user, **({"reason": reason} if reason else {}))
    return had


def mark_verified(request, device) -> None:
    """This session has passed the second factor with `device` (django_otp.login). The session key changes,
    as at every rise in privilege."""
    request.session.cycle_key()
    otp_login(request, device)


def forget_verification(request) -> None:
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
