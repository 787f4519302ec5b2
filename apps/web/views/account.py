"""The person's own account: password and e-mail address (each changed only with the current password), the
personal API tokens (single-sign-on users make theirs here; anybody lists and revokes their own), and the
page the confirmation link of a new e-mail address opens. Every write is one service call
(apps.tenancy.services, apps.tenancy.email_verification)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from apps.tenancy import selectors, services
from apps.tenancy.email_verification import user_email_confirm
from apps.tenancy.models import ApiToken
from apps.web.views.base import PageMixin, apply_service_errors

_PASSWORD = forms.PasswordInput(attrs={"autocomplete": "current-password"})
_NEW_PASSWORD = forms.PasswordInput(attrs={"autocomplete": "new-password"})


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(label=gettext_lazy("Current password"), widget=_PASSWORD)
    password = forms.CharField(label=gettext_lazy("New password"), widget=_NEW_PASSWORD, max_length=4096)
    password_again = forms.CharField(
        label=gettext_lazy("New password, again"), widget=_NEW_PASSWORD, max_length=4096
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two new passwords differ."))
        return data


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("New e-mail address"), max_length=254)
    current_password = forms.CharField(label=gettext_lazy("Current password"), widget=_PASSWORD)


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=200,
        help_text=gettext_lazy("What the token is for, e.g. the script or machine that uses it."),
    )


class AccountView(PageMixin, TemplateView):
    """GET: the account; POST `form=password` or `form=email`."""

    template_name = "web/account.html"
    section = "account"
    title = "Account"

    def get_context_data(self, password_form=None, email_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            password_form=password_form or PasswordChangeForm(prefix="pw"),
            email_form=email_form or EmailChangeForm(prefix="em"),
            has_password=user.has_usable_password(),
            account_current=True,
        )
        return context

    def post(self, request, *args, **kwargs):
        which = request.POST.get("form")
        form_class, prefix = (PasswordChangeForm, "pw") if which == "password" else (EmailChangeForm, "em")
        form = form_class(request.POST, prefix=prefix)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "password_again"}
            try:
                user = services.user_update(
                    actor=request.user, access=self.access, user=request.user, **fields
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                return self._done(user, which)
        name = "password_form" if form_class is PasswordChangeForm else "email_form"
        return self.render_to_response(self.get_context_data(**{name: form}), status=400)

    def _done(self, user, which):
        if which == "password":
            # Every other session and every API token of the person ended with the old password; this
            # browser stays signed in.
            update_session_auth_hash(self.request, user)
            messages.success(
                self.request, _("Password changed. Your other sessions and all your API tokens were ended.")
            )
        elif user.pending_email:
            messages.success(
                self.request,
                _("We sent a confirmation link to %(email)s. The new address counts once you open it.")
                % {"email": user.pending_email},
            )
        else:  # the address it already has (in any case): nothing to confirm, nothing was sent
            messages.info(self.request, _("That is already your e-mail address."))
        return redirect("web:account")


class TokensView(PageMixin, TemplateView):
    """The person's own API tokens that still sign in; POST makes a new one, whose key is shown once."""

    template_name = "web/account_tokens.html"
    section = "account"
    title = "API tokens"

    def get_context_data(self, form=None, key=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            tokens=selectors.token_list_own(user=self.request.user)
            .select_related("tenant")
            .order_by("-created_at"),
            form=form or TokenCreateForm(),
            key=key,
            ttl_days=services.PERSONAL_TOKEN_TTL.days,
            account_current=True,
        )
        return context

    def post(self, request, *args, **kwargs):
        form = TokenCreateForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        _token, key = services.token_create(
            actor=request.user,
            user=request.user,
            name=form.cleaned_data["name"],
            ttl=services.PERSONAL_TOKEN_TTL,
        )
        response = self.render_to_response(self.get_context_data(key=key), status=201)
        response["Cache-Control"] = "no-store"
        return response


class TokenRevokeView(PageMixin, View):
    http_method_names = ["post"]

    def post(self, request, token_id):
        try:
            token = selectors.token_list_own(user=request.user).get(pk=token_id)
        except ApiToken.DoesNotExist:
            raise Http404 from None
        services.token_revoke(actor=request.user, token=token)
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
        return redirect("web:account-tokens")


class EmailConfirmView(View):
    """The page the confirmation link opens (`?t=<token>`; no sign-in needed: the link is the proof); its
    button posts the token back and confirms."""

    second_factor_exempt = True  # apps.web.middleware: the link works in a half-signed-in browser too
    template_name = "web/email_confirm.html"

    def get(self, request):
        return render(request, self.template_name, {"token": request.GET.get("t", "")})

    def post(self, request):
        token = request.POST.get("token", "")
        try:
            user = user_email_confirm(actor=request.user, token=token)
        except ValidationError as exc:
            errors = exc.message_dict.get("token", exc.messages)
            return render(request, self.template_name, {"token": token, "errors": errors}, status=400)
        return render(request, self.template_name, {"confirmed": user.email, "home": reverse("web:home")})
