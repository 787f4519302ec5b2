"""Two-factor authentication pages (issue 8): the code step after the password, enrolment (QR code, then the
recovery codes shown once), and the Security page (status, new recovery codes, removal).

Until a session has passed the second factor it owes (apps.tenancy.two_factor), apps.web.middleware sends
every page and the admin site here. A wrong code counts against the sign-in lockout (apps/web/lockout.py)
like a wrong password, per username and address; when a lock falls the half-signed-in session is ended."""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView
from django_otp.plugins.otp_static.models import StaticDevice

from apps.accounts import second_factor
from apps.tenancy.two_factor import ENROL, VERIFY, second_factor_required, second_factor_step
from apps.tenancy.views import request_access
from apps.web import lockout
from apps.web.forms import EnrolForm, SecondFactorForm, client_ip
from apps.web.views.base import PageMixin

CODES_TEMPLATE = "web/two_factor_codes.html"


def step_url(step: str, next_url: str = "") -> str:
    url = reverse("web:two-factor" if step == VERIFY else "web:two-factor-enrol")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _next(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("web:home")


def check_code(request, form) -> object | None:
    """The device that accepts the form's code, or None with the form's error set. A wrong code is audited
    and counted against the lockout; when that locks, the session is signed out (the caller then redirects
    to the sign-in page, which says until when)."""
    user, code, ip = request.user, form.cleaned_data["code"], client_ip(request)
    lock = lockout.lock_for(username=user.get_username(), ip=ip)
    if lock is None:
        wait = second_factor.seconds_before_next_try(user=user, code=code)
        if wait:
            form.add_error(
                "code", _("Too many wrong codes: wait %(n)d seconds, then try again.") % {"n": wait}
            )
            return None
        with transaction.atomic():
            device = second_factor.second_factor_verify(user=user, code=code)
            if device is None:
                second_factor.second_factor_failed(user=user, channel="web")
        if device is not None:
            lockout.signin_succeeded(username=user.get_username(), ip=ip)
            return device
        lock = lockout.signin_failed(username=user.get_username(), ip=ip, audited=False)
        if lock is None:
            form.add_error("code", _("That code is not right. Check the time on your phone and try again."))
            return None
    logout(request)
    messages.error(request, lockout.lock_message(lock))
    form.locked_out = True
    return None


class SecondFactorStepView(LoginRequiredMixin, View):
    """The second step of signing in: a code from the authenticator app, or a recovery code."""

    login_url = reverse_lazy("web:sign-in")
    second_factor_exempt = True
    template_name = "web/two_factor_verify.html"

    def get(self, request):
        step = second_factor_step(request)
        if step is None:
            return redirect(_next(request))
        if step == ENROL:
            return redirect(step_url(ENROL, _next(request)))
        return self._render(SecondFactorForm())

    def post(self, request):
        if second_factor_step(request) != VERIFY:
            return redirect(_next(request))
        form = SecondFactorForm(request.POST)
        if form.is_valid():
            device = check_code(request, form)
            if getattr(form, "locked_out", False):
                return redirect("web:sign-in")
            if device is not None:
                second_factor.mark_verified(request, device)
                if isinstance(device, StaticDevice):
                    left = second_factor.recovery_codes_left(request.user)
                    messages.warning(
                        request,
                        _("Recovery code used: %(n)d left. Make new ones on the Security page in time.")
                        % {"n": left},
                    )
                return redirect(_next(request))
        return self._render(form)

    def _render(self, form):
        return render(self.request, self.template_name, {"form": form, "next": _next(self.request)})


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no image request, no inline style: the CSP stays strict)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff", omitsize=False)


def grouped(secret: str, size: int = 4) -> str:
    return " ".join(secret[i : i + size] for i in range(0, len(secret), size))


class EnrolView(LoginRequiredMixin, View):
    """Set up an authenticator: scan the QR code (or type the key), confirm with its first code, then see the
    recovery codes once."""

    login_url = reverse_lazy("web:sign-in")
    second_factor_exempt = True
    template_name = "web/two_factor_enrol.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and second_factor.has_second_factor(request.user):
            # A second authenticator is not added beside the first: verify, or remove it on the Security page.
            if second_factor_step(request) == VERIFY:
                return redirect(step_url(VERIFY, _next(request)))
            return redirect("web:security")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self._render(EnrolForm())

    def post(self, request):
        form = EnrolForm(request.POST)
        if form.is_valid():
            device = second_factor.authenticator_pending(user=request.user)
            codes = second_factor.authenticator_confirm(
                user=request.user, device=device, code=form.cleaned_data["code"]
            )
            if codes is not None:
                device.refresh_from_db()
                second_factor.mark_verified(request, device)
                return render(
                    request, CODES_TEMPLATE, {"codes": codes, "next": _next(request), "enrolled": True}
                )
            form.add_error("code", _("That code is not right. Check the time on your phone and try again."))
        return self._render(form)

    def _render(self, form):
        device = second_factor.authenticator_pending(user=self.request.user)
        required = second_factor_required(self.request.user, request_access(self.request))
        context = {
            "form": form,
            "next": _next(self.request),
            "qr": mark_safe(qr_svg(device.config_url)),  # noqa: S308 - segno's own SVG, no user markup
            "secret": grouped(b32encode(device.bin_key).decode()),
            "required": required,
        }
        return render(self.request, self.template_name, context)


class SecurityView(PageMixin, TemplateView):
    """The person's own sign-in security: their authenticator, recovery codes left, and changes to them."""

    template_name = "web/security.html"
    section = "security"
    title = "Security"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        device = second_factor.authenticator_of(user)
        context.update(
            device=device,
            codes_left=second_factor.recovery_codes_left(user) if device else 0,
            required=second_factor_required(user, self.access),
            form=SecondFactorForm(),
            security_current=True,
        )
        return context


class _ReauthenticatedAction(PageMixin, View):
    """A change to one's second factor: POST with a current code (re-authentication), then `act`."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if not second_factor.has_second_factor(request.user):
            return redirect("web:security")
        form = SecondFactorForm(request.POST)
        device = check_code(request, form) if form.is_valid() else None
        if getattr(form, "locked_out", False):
            return redirect("web:sign-in")
        if device is None:
            for error in form.errors.get("code", []):
                messages.error(request, error)
            return redirect("web:security")
        return self.act(request)


class RecoveryCodesView(_ReauthenticatedAction):
    def act(self, request):
        codes = second_factor.recovery_codes_regenerate(user=request.user)
        return render(request, CODES_TEMPLATE, {"codes": codes, "next": reverse("web:security")})


class RemoveView(_ReauthenticatedAction):
    def act(self, request):
        second_factor.second_factor_remove(actor=request.user, user=request.user)
        second_factor.forget_verification(request)
        messages.success(request, _("Two-factor authentication was removed from your account."))
        if second_factor_required(request.user, request_access(request)):
            messages.warning(request, _("Your role requires it: set up an authenticator again now."))
            return redirect(step_url(ENROL, reverse("web:security")))
        return redirect("web:security")
