"""Sign-in (with lockout, apps/web/lockout.py), sign-out and the header's tenant filter."""

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from apps.tenancy.views import request_access
from apps.web.forms import SignInForm
from apps.web.views.base import TENANT_SESSION_KEY


class SignInView(auth_views.LoginView):
    template_name = "web/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True
    next_page = reverse_lazy("web:home")


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("web:sign-in")


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
