import math

from django.contrib.auth import authenticate, update_session_auth_hash
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, views
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from apps.accounts import second_factor
from apps.tenancy import membership_requests, selectors, services, signin, two_factor
from apps.tenancy.access import access_for
from apps.tenancy.api.base import AUTHENTICATED, PLATFORM_ADMIN, TenantScopedViewSet
from apps.tenancy.api.filters import MembershipFilter
from apps.tenancy.api.serializers import (
    MembershipRequestSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    OwnTokenSerializer,
    TenantSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from apps.tenancy.models import MembershipRequest
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
        request = self.request
        serializer.instance = services.user_update(
            actor=request.user, access=self.access, user=serializer.instance, **serializer.validated_data
        )
        if serializer.instance.pk == request.user.pk and request.auth is None:
            # A new password ended every session and token of the person; the browser session that
            # changed it goes on (as Django's own password change does), its tokens do not.
            update_session_auth_hash(request._request, serializer.instance)


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

    @extend_schema(responses={201: MembershipSerializer, 202: MembershipRequestSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.membership_create(
            actor=request.user, access=self.access, **serializer.validated_data
        )
        return self._answer(result, status.HTTP_201_CREATED)

    @extend_schema(responses={200: MembershipSerializer, 202: MembershipRequestSerializer})
    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        # `role` is the only writable field; a PATCH without it keeps the current role.
        result = services.membership_update(
            actor=request.user,
            access=self.access,
            membership=instance,
            role=serializer.validated_data.get("role", instance.role),
        )
        return self._answer(result, status.HTTP_200_OK)

    @extend_schema(responses={200: MembershipSerializer, 202: MembershipRequestSerializer})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def _answer(self, result, done: int) -> Response:
        """A change that widens the caller's own access waits for a second administrator (four-eyes):
        202 with the pending request (`/api/v1/membership-requests/{id}/`)."""
        if isinstance(result, MembershipRequest):
            return Response(MembershipRequestSerializer(result).data, status=status.HTTP_202_ACCEPTED)
        return Response(MembershipSerializer(result, context=self.get_serializer_context()).data, status=done)

    def perform_destroy(self, instance):
        services.membership_delete(actor=self.request.user, access=self.access, membership=instance)


class MembershipRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Four-eyes requests (apps/tenancy/four_eyes.py): the tenants' member administrators see and decide
    them; the requester sees its own."""

    serializer_class = MembershipRequestSerializer
    cursor_ordering = ("-created_at", "-id")
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        "approve": Scope.MEMBER_ADMIN,
        "refuse": Scope.MEMBER_ADMIN,
    }

    def scoped_queryset(self):
        return membership_requests.membership_request_list(access=self.access)

    @extend_schema(request=None, responses={200: MembershipSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        membership = membership_requests.membership_request_approve(
            actor=request.user, access=self.access, request=self.get_object()
        )
        return Response(MembershipSerializer(membership, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={200: MembershipRequestSerializer})
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        refused = membership_requests.membership_request_refuse(
            actor=request.user, access=self.access, request=self.get_object()
        )
        return Response(MembershipRequestSerializer(refused).data)


class OwnTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, TenantScopedViewSet):
    """`/api/v1/auth/tokens/`: the caller's own API tokens that still sign in (never their keys); DELETE
    revokes one. Anybody else's token answers 404."""

    serializer_class = OwnTokenSerializer
    cursor_ordering = ("-created_at", "-id")
    action_scopes = {"list": AUTHENTICATED, "destroy": AUTHENTICATED}

    def scoped_queryset(self):
        return selectors.token_list_own(user=self.request.user)

    def perform_destroy(self, instance):
        services.token_revoke(actor=self.request.user, token=instance)


class LoginRateThrottle(AnonRateThrottle):
    """Every request to the token endpoint from one address (scope `login`, LOGIN_RATE_LIMIT)."""

    scope = "login"


class AuthTokenView(views.APIView):
    """Exchange a username and password (and, for a person with two-factor authentication, a code as `otp`)
    for a personal API token (shown once).

    Brute force is stopped twice: LoginRateThrottle limits all attempts from one address, and failed
    sign-ins and wrong codes lock the account and the address (apps/tenancy/signin.py); both answer 429 with
    Retry-After. A person who must use two-factor authentication (apps.tenancy.two_factor) and has not set
    it up gets no token until they have, in the web app."""

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
                f"try again in {math.ceil(wait / 60)} minute(s).",
            )
        user = authenticate(request, username=username, password=serializer.validated_data["password"])
        if user is None or user.is_service_account:
            signin.signin_failed(username=username, ip=ip)
            return Response(
                {"detail": "Unable to sign in with these credentials."}, status=status.HTTP_400_BAD_REQUEST
            )
        refused = self._second_factor(user, code=serializer.validated_data.get("otp", ""), ip=ip)
        if refused is not None:
            return refused
        signin.signin_succeeded(username=username)
        with transaction.atomic():
            token, key = services.token_create(
                actor=user, user=user, name="API sign-in", ttl=services.PERSONAL_TOKEN_TTL
            )
        return Response({"token": key, "expires_at": token.expires_at}, status=status.HTTP_201_CREATED)

    def _second_factor(self, user, *, code: str, ip: str) -> Response | None:
        """None when the person may have a token now; else the answer that says why not."""
        if not second_factor.has_second_factor(user):
            if two_factor.second_factor_required(user, access_for(user)):
                return Response(
                    {
                        "detail": "Two-factor authentication required: this account must set up an "
                        "authenticator on the Security page of the web app before it gets API tokens."
                    },
                    status=status.HTTP_403_FORBIDDEN,
                )
            return None
        if not code:
            return Response(
                {
                    "otp": [
                        "This account uses two-factor authentication: send the code from its "
                        "authenticator app (or a recovery code) as otp."
                    ]
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        wait = second_factor.seconds_before_next_try(user=user, code=code)
        if wait:
            raise exceptions.Throttled(wait, detail=f"Too many wrong codes; try again in {wait} second(s).")
        with transaction.atomic():
            device = second_factor.second_factor_verify(user=user, code=code)
            if device is None:
                second_factor.second_factor_failed(user=user, channel="api")
        if device is None:
            signin.signin_failed(username=user.get_username(), ip=ip)
            return Response({"otp": ["Invalid code."]}, status=status.HTTP_400_BAD_REQUEST)
        return None
