"""The API's base classes: every endpoint is deny-by-default and runs inside the tenant context.

`TenantScopedViewSet.dispatch` opens the request's transaction, builds the caller's Access once, enters
`activate()` before permissions are checked and before any handler runs, and answers Idempotency-Key
replays. Endpoints declare which scope each action needs; an action without one is refused.
"""

from contextlib import ExitStack
from uuid import UUID

from django.db import transaction
from rest_framework import exceptions, viewsets
from rest_framework.permissions import BasePermission

from apps.core.api import idempotency
from apps.tenancy.access import Access, access_for
from apps.tenancy.context import activate
from apps.tenancy.models import ApiToken, Tenant

AUTHENTICATED = "authenticated"  # any signed-in caller; the selector decides what it sees
PLATFORM_ADMIN = "platform_admin"  # superusers only


class HasActionScope(BasePermission):
    """403 unless the caller holds the action's scope in at least one tenant (objects are then checked
    per tenant by selectors, which answer 404, and by services)."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        method = request.method.lower()
        if method not in view.http_method_names or getattr(view, method, None) is None:
            return True  # no handler: the view answers 405 and runs nothing
        scope = view.action_scopes.get(view.action or method)
        if scope is None:
            return False
        if view.access.is_superuser:
            return True
        if scope == AUTHENTICATED:
            return True
        if scope == PLATFORM_ADMIN:
            return view.access.is_superuser
        return view.access.has_any_scope(scope)


def narrowed_tenant_ids(access: Access, raw: str) -> frozenset:
    """`?tenant=<id>`: that tenant and its descendants, within what the caller may read."""
    try:
        tenant_id = UUID(raw)
    except ValueError:
        raise exceptions.ValidationError({"tenant": ["Must be a tenant id (UUID)."]}) from None
    path = (
        Tenant.objects.filter(id=tenant_id, id__in=access.tenant_ids).values_list("path", flat=True).first()
    )
    if path is None:
        raise exceptions.ValidationError({"tenant": ["Unknown tenant."]})
    return frozenset(
        Tenant.objects.filter(path__startswith=path, id__in=access.tenant_ids).values_list("id", flat=True)
    )


class TenantScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [HasActionScope]
    action_scopes: dict[str, str] = {}
    access: Access

    def dispatch(self, request, *args, **kwargs):
        with ExitStack() as stack, transaction.atomic():
            self._exit_stack = stack
            response = self._dispatch(request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
            return response

    def _dispatch(self, request, *args, **kwargs):
        # DRF's APIView.dispatch, with the idempotency claim between permission checks and the handler.
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            handler = getattr(self, request.method.lower(), None)
            if request.method.lower() not in self.http_method_names or handler is None:
                handler = self.http_method_not_allowed
            claimed = idempotency.claim(request) if handler is not self.http_method_not_allowed else None
            if claimed is not None and not isinstance(claimed, idempotency.IdempotencyRecord):
                response = claimed
            else:
                response = handler(request, *args, **kwargs)
                if claimed is not None and response.status_code < 400:
                    idempotency.complete(claimed, response)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def check_permissions(self, request):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        self.access = access_for(request.user, token)
        tenant_ids = None
        if self.action == "list" and request.query_params.get("tenant"):
            tenant_ids = narrowed_tenant_ids(self.access, request.query_params["tenant"])
        self._exit_stack.enter_context(activate(self.access, tenant_ids))
        super().check_permissions(request)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no tenant context
            return self.serializer_class.Meta.model._base_manager.none()
        return self.scoped_queryset()

    def scoped_queryset(self):
        raise NotImplementedError

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["access"] = getattr(self, "access", None)
        return context
