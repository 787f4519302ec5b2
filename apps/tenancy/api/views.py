from django.contrib.auth import authenticate
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, views
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from apps.tenancy import selectors, services, signin
from apps.tenancy.api.base import AUTHENTICATED, PLATFORM_ADMIN, TenantScopedViewSet
from apps.tenancy.api.filters import MembershipFilter
from apps.tenancy.api.serializers import (
    MembershipSerializer,
    MembershipUpdateSerializer,
    TenantSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from apps.tenancy.roles import Scope


class TenantViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantScopedViewSet,
):
    serializer_class = TenantSerializer
    cursor_ordering = ("name", "id")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        "create": PLATFORM_ADMIN,
        "update": Scope.TENANT_ADMIN,
        "partial_update": Scope.TENANT_ADMIN,
    }

    def scoped_queryset(self):
        return selectors.tenant_list(access=self.access)

    def perform_create(self, serializer):
        serializer.instance = services.tenant_create(
            actor=self.request.user, access=self.access, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.tenant_update(
            actor=self.request.user,
            access=self.access,
            tenant=serializer.instance,
            **serializer.validated_data,
        )


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantScopedViewSet,
):
    serializer_class = UserSerializer
    cursor_ordering = ("-date_joined", "-id")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        "create": Scope.MEMBER_ADMIN,
        "update": AUTHENTICATED,
        "partial_update": AUTHENTICATED,
    }

    def get_serializer_class(self):
        return UserUpdateSerializer if self.action in {"update", "partial_update"} else UserSerializer

    def scoped_queryset(self):
        return selectors.user_list(access=self.access)

    def perform_create(self, serializer):
        serializer.instance = services.user_create(
            actor=self.request.user, access=self.access, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.user_update(
            actor=self.request.user, access=self.access, user=serializer.instance, **serializer.validated_data
        )


class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        "create": Scope.MEMBER_ADMIN,
        "update": Scope.MEMBER_ADMIN,
        "partial_update": Scope.MEMBER_ADMIN,
        "destroy": Scope.MEMBER_ADMIN,
    }

    def get_serializer_class(self):
        return (
            MembershipUpdateSerializer
            if self.action in {"update", "partial_update"}
            else MembershipSerializer
        )

    def scoped_queryset(self):
        return selectors.membership_list(access=self.access)

    def perform_create(self, serializer):
        serializer.instance = services.membership_create(
            actor=self.request.user, access=self.access, **serializer.validated_data
        )

    def perform_update(self, serializer):
        # `role` is the only writable field; a PATCH without it keeps the current role.
        serializer.instance = services.membership_update(
            actor=self.request.user,
            access=self.access,
            membership=serializer.instance,
            role=serializer.validated_data.get("role", serializer.instance.role),
        )

    def perform_destroy(self, instance):
        services.membership_delete(actor=self.request.user, access=self.access, membership=instance)


class LoginRateThrottle(AnonRateThrottle):
    """Every request to the token endpoint from one address (scope `login`, LOGIN_RATE_LIMIT)."""

    scope = "login"


class AuthTokenView(views.APIView):
    """Exchange a username and password for a personal API token (shown once).

    Brute force is stopped twice: LoginRateThrottle limits all attempts from one address, and failed
    sign-ins lock the account and the address (apps/tenancy/signin.py); both answer 429 with Retry-After."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    def throttled(self, request, wait):
        raise exceptions.Throttled(wait, detail="Too many sign-in attempts from this address.")

    @extend_schema(request=TokenRequestSerializer, responses={201: TokenResponseSerializer})
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        ip = LoginRateThrottle().get_ident(request)  # REMOTE_ADDR, or per NUM_PROXIES behind proxies
        wait = signin.locked_for(username=username, ip=ip)
        if wait is not None:
            raise exceptions.Throttled(
                wait,
                detail="Too many failed sign-ins for this account or from this address; "
                "sign-in is locked for a while.",
            )
        user = authenticate(request, username=username, password=serializer.validated_data["password"])
        if user is None or user.is_service_account:
            signin.signin_failed(username=username, ip=ip)
            return Response(
                {"detail": "Unable to sign in with these credentials."}, status=status.HTTP_400_BAD_REQUEST
            )
        signin.signin_succeeded(username=username)
        with transaction.atomic():
            token, key = services.token_create(
                actor=user, user=user, name="API sign-in", ttl=services.PERSONAL_TOKEN_TTL
            )
        return Response({"token": key, "expires_at": token.expires_at}, status=status.HTTP_201_CREATED)
