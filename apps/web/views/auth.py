"""Sign-in (with lockout, apps/web/lockout.py), sign-out and the header's tenant filter."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from apps.tenancy.two_factor import second_factor_step
from apps.tenancy.views import request_access
from apps.web.forms import SignInForm
from apps.web.views.base import TENANT_SESSION_KEY
from apps.web.views.two_factor import step_url


class SignInView(auth_views.LoginView):
    template_name = "web/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True
    next_page = reverse_lazy("web:home")
    second_factor_exempt = True  # apps.web.middleware

    def form_valid(self, form):
        response = super().form_valid(form)
        # The password is the first step: a session that owes a second factor goes there next.
        step = second_factor_step(self.request)
        return redirect(step_url(step, self.get_success_url())) if step else response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Single sign-on (OpenID Connect), when configured: a link, not a form (CSP form-action is 'self').
        if settings.OIDC_ENABLED:
            context["sso_provider_name"] = settings.OIDC_PROVIDER_NAME
            context["sso_url"] = reverse("web:sso-start")
        return context


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("web:sign-in")
    second_factor_exempt = True


class TenantFilterView(View):
    """POST: remember which of the caller's tenants the lists show (empty: all of them)."""

    http_method_names = ["post"]

    def post(self, request):
        if not request.user.is_authenticated:
            return redirect("web:sign-in")
        wanted = request.POST.get("tenant", "")
        known = {str(tenant_id) for tenant_id in request_access(request).tenant_ids}
        if wanted in known:
            request.session[TENANT_SESSION_KEY] = wanted
        else:
            request.session.pop(TENANT_SESSION_KEY, None)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse_lazy("web:home")
        return redirect(back)
