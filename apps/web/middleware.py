"""The pages and the admin site wait for the second factor a signed-in session owes (issue 8).

Until then every page of apps.web and of the admin site redirects to the step (a code, or enrolment when the
person must have an authenticator and has none; apps.tenancy.two_factor decides which). Exempt: views that
declare `second_factor_exempt = True` (sign-in, sign-out, the two-factor step and enrolment themselves, and
any other view a person must reach half-signed-in, such as a single sign-on callback) and the admin's own
login and logout. Everything outside those two URL namespaces is left alone: static files, health checks,
the calendar feed (its secret link is its credential) and the API, where apps.tenancy.authentication
answers 403 to a session that owes a second factor (API tokens are unaffected)."""

from __future__ import annotations

from django.shortcuts import redirect

from apps.tenancy.admin_site import may_use_admin
from apps.tenancy.two_factor import second_factor_step
from apps.tenancy.views import request_access
from apps.web.views.two_factor import step_url

ADMIN_EXEMPT = {"login", "logout"}


def _exempt(view_func) -> bool:
    view_class = getattr(view_func, "view_class", None)
    return bool(
        getattr(view_func, "second_factor_exempt", False)
        or getattr(view_class, "second_factor_exempt", False)
    )


class SecondFactorMiddleware:
    """After AuthenticationMiddleware and django_otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or _exempt(view_func) or not request.user.is_authenticated:
            return None
        if match.namespace == "web":
            step = second_factor_step(request)
        elif match.namespace == "admin" and match.url_name not in ADMIN_EXEMPT:
            if not may_use_admin(request_access(request)):
                return None  # the admin site sends them to its login page itself
            step = second_factor_step(request, for_admin_site=True)
        else:
            return None
        if step is None:
            return None
        back = request.get_full_path() if request.method in ("GET", "HEAD") else ""
        return redirect(step_url(step, back))
