"""OpenID Connect, the protocol side: mozilla-django-oidc's authorization-code flow, hardened.

Active only when OIDC_RP_CLIENT_ID is set (config/settings.py adds VigilOIDCBackend to
AUTHENTICATION_BACKENDS; apps/web/urls.py adds the two routes). On top of the library (state, nonce, PKCE,
the signature checked against the provider's JWKS, the algorithm pinned to OIDC_RP_SIGN_ALGO):

- the ID token's issuer (OIDC_OP_ISSUER, else the discovery document's), audience (our client id, and `azp`
  when present), `exp`, `iat` and `sub` are checked — the library checks none of them;
- the userinfo answer must be about the same `sub` as the ID token (OpenID Connect Core 5.3.2);
- every failure is contained: `authenticate()` answers None and leaves the reason on the request
  (`request.vigil_sso_failure`) for the view to audit, instead of a 500;
- the endpoints are resolved lazily: Django instantiates every backend for each password sign-in too, and
  that must not reach the provider. With OIDC_OP_DISCOVERY_URL the discovery document is fetched on first use
  and cached per process for OIDC_DISCOVERY_TTL seconds (a failed fetch is not cached); explicit
  OIDC_OP_*_ENDPOINT settings win over it.

Who the person is in Vigil and which memberships they get is apps/tenancy/sso.py.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation, ValidationError
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from apps.tenancy.sso import SsoRefused, SsoSignIn, idp_asserted_mfa, sso_sign_in

LOGGER = logging.getLogger(__name__)

# Settings that name an endpoint, and the discovery document's key for each.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
# Allowed clock difference with the provider for `exp` / `iat` / `nbf`.
LEEWAY_SECONDS = 60


class ProviderUnavailable(Exception):
    """The identity provider's discovery document could not be fetched or is incomplete."""


_discovery_lock = threading.Lock()
_discovery_cache: dict[str, tuple[float, dict]] = {}


def discovery_document(url: str) -> dict:
    """The provider's /.well-known/openid-configuration, cached per process for OIDC_DISCOVERY_TTL."""
    now = time.monotonic()
    with _discovery_lock:
        cached = _discovery_cache.get(url)
        if cached and cached[0] > now:
            return cached[1]
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"OIDC discovery at {url} failed: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("issuer"), str):
        raise ProviderUnavailable(f"OIDC discovery at {url} gave no issuer")
    with _discovery_lock:
        _discovery_cache[url] = (now + settings.OIDC_DISCOVERY_TTL, document)
    return document


def discovery_cache_clear() -> None:
    with _discovery_lock:
        _discovery_cache.clear()


def oidc_setting(attr: str, *default):
    """mozilla-django-oidc's settings lookup, with the provider's endpoints taken from discovery when they
    are not configured explicitly."""
    if attr in DISCOVERED and not getattr(settings, attr, ""):
        value = discovery_document(settings.OIDC_OP_DISCOVERY_URL).get(DISCOVERED[attr]) or ""
        if not value and attr != "OIDC_OP_USER_ENDPOINT":  # userinfo is optional: the ID token suffices
            raise ProviderUnavailable(f"the provider's discovery document has no {DISCOVERED[attr]}")
        return value
    return import_from_settings(attr, *default)


def expected_issuer() -> str | None:
    if settings.OIDC_OP_ISSUER:
        return settings.OIDC_OP_ISSUER
    if settings.OIDC_OP_DISCOVERY_URL:
        return discovery_document(settings.OIDC_OP_DISCOVERY_URL)["issuer"]
    return None  # explicit endpoints without OIDC_OP_ISSUER: whatever issuer the trusted JWKS signed


@dataclass(frozen=True)
class SsoFailure:
    reason: str
    detail: str
    issuer: str = ""
    subject: str = ""


@dataclass(frozen=True)
class SsoSuccess:
    sign_in: SsoSignIn
    issuer: str
    subject: str
    mfa: bool
    amr: tuple[str, ...]
    acr: str


def _lazy_setting(name: str) -> property:
    return property(lambda self: oidc_setting(name))


class VigilOIDCBackend(OIDCAuthenticationBackend):
    """The authorization-code flow of mozilla-django-oidc; see the module docstring for what it adds."""

    get_settings = staticmethod(oidc_setting)

    OIDC_OP_TOKEN_ENDPOINT = _lazy_setting("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _lazy_setting("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _lazy_setting("OIDC_OP_JWKS_ENDPOINT")

    def __init__(self, *args, **kwargs):
        # Not the library's __init__: it resolves the endpoints, i.e. would fetch discovery on every password
        # sign-in. Only what needs no network here.
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None  # always the provider's JWKS
        self._id_claims: dict = {}

    def authenticate(self, request, **kwargs):
        # Only the callback view's call (request, nonce, code_verifier): never a password sign-in, even one
        # whose URL happens to carry `code` and `state`.
        if request is None or "nonce" not in kwargs or {"username", "password"} & set(kwargs):
            return None
        request.vigil_sso_failure = None
        request.vigil_sso_success = None
        try:
            user = super().authenticate(request, **kwargs)
            if user is None and request.vigil_sso_failure is None:
                self._fail(request, "refused", "The provider's answer was incomplete.")
            return user
        except SsoRefused as exc:
            self._fail(request, exc.reason, str(exc))
        except ProviderUnavailable as exc:
            self._fail(request, "provider_unavailable", str(exc))
        except requests.RequestException as exc:
            self._fail(request, "provider_request_failed", str(exc))
        except ValidationError as exc:  # claims Vigil cannot store (user_create/user_update refused them)
            self._fail(request, "invalid_claims", str(exc))
        except (SuspiciousOperation, jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            self._fail(request, "invalid_token", str(exc) or type(exc).__name__)
        return None

    def _fail(self, request, reason: str, detail: str) -> None:
        claims = getattr(self, "_id_claims", None) or {}
        LOGGER.warning("OIDC sign-in refused (%s): %s", reason, detail)
        request.vigil_sso_failure = SsoFailure(
            reason=reason,
            detail=detail[:500],
            issuer=str(claims.get("iss", ""))[:255],
            subject=str(claims.get("sub", ""))[:255],
        )

    # ---- the ID token ---------------------------------------------------------------------------------

    def verify_token(self, token, **kwargs):
        if not isinstance(token, str) or not token:
            raise SuspiciousOperation("The provider returned no token.")
        payload = super().verify_token(token, **kwargs)
        if "nonce" in kwargs:  # the ID token (a signed userinfo answer is verified without a nonce)
            self._check_id_token(payload)
            self._id_claims = payload
        return payload

    def _verify_jws(self, payload, key):
        """The library's check of signature and algorithm, plus `exp`, `iat` and `nbf` with some leeway
        (the library would refuse a token whose `iat` lies a second in the future)."""
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(
                f"The token's algorithm {header.get('alg')!r} is not {self.OIDC_RP_SIGN_ALGO}."
            )
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                leeway=LEEWAY_SECONDS,
                options={"verify_aud": False, "verify_iss": False},
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"Token verification failed: {exc}") from exc

    def _check_id_token(self, payload: dict) -> None:
        for name in ("iss", "sub", "aud", "exp", "iat"):
            if name not in payload:
                raise SuspiciousOperation(f"The ID token has no {name!r} claim.")
        if not isinstance(payload["sub"], str) or not payload["sub"]:
            raise SuspiciousOperation("The ID token's subject is empty.")
        issuer = expected_issuer()
        if issuer is not None and payload["iss"] != issuer:
            raise SuspiciousOperation(f"The ID token's issuer {payload['iss']!r} is not {issuer!r}.")
        audience = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        if self.OIDC_RP_CLIENT_ID not in audience:
            raise SuspiciousOperation("The ID token is not meant for this client (aud).")
        if ("azp" in payload or len(audience) > 1) and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("The ID token was issued to another party (azp).")

    def get_user(self, user_id):
        # Django's rule, not the library's: a deactivated person's existing sessions end at the next request.
        return ModelBackend.get_user(self, user_id)

    # ---- the person -----------------------------------------------------------------------------------

    def verify_claims(self, claims):
        return True  # the subject is what matters (checked against the ID token); e-mail is optional

    def get_userinfo(self, access_token, id_token, payload):
        if not self.OIDC_OP_USER_ENDPOINT or not access_token:
            return {}
        return super().get_userinfo(access_token, id_token, payload)

    def get_or_create_user(self, access_token, id_token, payload):
        userinfo = self.get_userinfo(access_token, id_token, payload)
        # (SsoRefused, not SuspiciousOperation: the library would swallow that one here.)
        if not isinstance(userinfo, dict):
            raise SsoRefused("invalid_userinfo", "The userinfo answer is not an object.")
        if userinfo and userinfo.get("sub") != payload["sub"]:
            raise SsoRefused(
                "invalid_userinfo", "The userinfo answer is about another subject than the ID token."
            )
        # Profile and groups from userinfo where it has them, else from the ID token; the authentication
        # facts (amr, acr) from the signed ID token only.
        claims = {**payload, **userinfo}
        result = sso_sign_in(issuer=payload["iss"], subject=payload["sub"], claims=claims)
        amr = payload.get("amr")
        self.request.vigil_sso_success = SsoSuccess(
            sign_in=result,
            issuer=payload["iss"],
            subject=payload["sub"],
            mfa=idp_asserted_mfa(payload),
            amr=tuple(str(v) for v in amr)
            if isinstance(amr, list)
            else ((amr,) if isinstance(amr, str) else ()),
            acr=str(payload.get("acr") or ""),
        )
        return result.user
