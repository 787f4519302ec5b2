"""Single sign-on pages: `sso/start/` sends the browser to the identity provider, `sso/callback/` takes its
answer. Routed only when OIDC is configured (apps/web/urls.py). The library (mozilla-django-oidc) does the
protocol; these add the lockout, the audit events (apps/web/sso.py), friendly failures instead of 400/500
answers, and the second-factor mark: when the provider's ID token asserted multi-factor authentication the
session gets IDP_SECOND_FACTOR_SESSION_KEY (apps/accounts/second_factor.py), otherwise the person goes through
Vigil's own second factor like anyone signing in with a password."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from apps.accounts.second_factor import IDP_SECOND_FACTOR_SESSION_KEY
from apps.tenancy.oidc import ProviderUnavailable, SsoFailure, oidc_setting
from apps.web.forms import client_ip
from apps.web.sso import sso_locked_until, sso_signed_in, sso_signin_failed


def _refused(request, message: str):
    messages.error(request, message)
    return redirect("web:sign-in")


def _locked(request):
    until = sso_locked_until(ip=client_ip(request))
    if until is None:
        return None
    return _refused(
        request,
        _("Too many failed single sign-ons from your address. Try again after %(until)s.")
        % {"until": timezone.localtime(until).strftime("%H:%M")},
    )


class SsoStartView(OIDCAuthenticationRequestView):
    """Redirects to the provider's authorization endpoint with state, nonce and a PKCE challenge."""

    get_settings = staticmethod(oidc_setting)
    second_factor_exempt = True  # apps.web.middleware: reached before (or instead of) a second factor

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # not the library's: it would resolve the endpoint before dispatch
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_OP_AUTH_ENDPOINT(self):  # the library's attribute name
        return oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")

    def get(self, request):
        locked = _locked(request)
        if locked is not None:
            return locked
        try:
            return super().get(request)
        except ProviderUnavailable as exc:
            sso_signin_failed(
                ip=client_ip(request), failure=SsoFailure("provider_unavailable", str(exc)), counts=False
            )
            return _refused(request, _("The identity provider cannot be reached. Try again later."))


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: checks it (library + VigilOIDCBackend), then signs the person in. A session
    that still owes Vigil's own second factor is sent there by apps.web.middleware on its next page."""

    get_settings = staticmethod(oidc_setting)
    second_factor_exempt = True

    @property
    def success_url(self):
        return self.request.session.get("oidc_login_next") or reverse("web:home")

    def get(self, request):
        locked = _locked(request)
        if locked is not None:
            return locked
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state this browser never asked for (or already used)
            return self._failed(SsoFailure("invalid_state", str(exc)))

    def login_success(self):
        response = super().login_success()
        success = getattr(self.request, "vigil_sso_success", None)
        if success is not None and success.mfa:
            self.request.session[IDP_SECOND_FACTOR_SESSION_KEY] = True
        else:
            self.request.session.pop(IDP_SECOND_FACTOR_SESSION_KEY, None)
        if success is not None:
            sso_signed_in(user=self.user, success=success)
        return response

    def login_failure(self):
        request = self.request
        failure = getattr(request, "vigil_sso_failure", None)
        counts = True
        if failure is None:
            if request.GET.get("error"):
                failure = SsoFailure(
                    "provider_refused",
                    f"{request.GET['error']}: {request.GET.get('error_description', '')}"[:500],
                )
                counts = False  # the provider refused or the person cancelled: its business, not guessing
            elif "code" not in request.GET or "state" not in request.GET:
                failure = SsoFailure("invalid_request", "The answer has no code or state.")
            elif getattr(self, "user", None) is not None and not self.user.is_active:
                failure = SsoFailure("inactive", "This account is deactivated.")
            else:
                failure = SsoFailure("invalid_state", "No single sign-on was started in this browser.")
        return self._failed(failure, counts=counts)

    def _failed(self, failure: SsoFailure, *, counts: bool = True):
        sso_signin_failed(ip=client_ip(self.request), failure=failure, counts=counts)
        if failure.reason == "provider_refused":
            message = _("Single sign-on was cancelled or refused by the identity provider.")
        elif failure.reason in {"no_account", "inactive", "service_account"}:
            message = _("Your identity provider account gives no access to Vigil. Ask your administrator.")
        elif failure.reason in {"provider_unavailable", "provider_request_failed"}:
            message = _("The identity provider cannot be reached. Try again later.")
        else:
            message = _("Single sign-on failed. Please try again.")
        return _refused(self.request, message)
