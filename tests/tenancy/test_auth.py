"""Authentication and the deny-by-default permission layer of /api/v1/."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.dateparse import parse_datetime
from rest_framework import mixins, views
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from apps.audit.models import AuditEntry
from apps.tenancy.access import access_for
from apps.tenancy.api.base import AUTHENTICATED, TenantScopedViewSet
from apps.tenancy.api.serializers import TenantSerializer
from apps.tenancy.context import activate
from apps.tenancy.models import ApiToken, Membership, Tenant
from apps.tenancy.roles import ROLES
from apps.tenancy.services import service_account_create, token_create, token_revoke
from tests.factories import IncidentFactory, MembershipFactory, TenantFactory, UserFactory
from tests.two_factor import authenticator_for, pass_second_factor, totp_code

TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def sign_in(username: str, password: str = PASSWORD):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


# --- POST /auth/token/ -------------------------------------------------------------------------------


def test_good_credentials_give_a_token_that_works(tenant, make_member):
    user = make_member("handler", tenant, username="grace")

    response = sign_in("grace")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    expires_at = parse_datetime(body["expires_at"])
    assert timedelta(days=29) < expires_at - timezone.now() <= timedelta(days=30)
    # Only the hash is stored: the key is shown once.
    # (Found by its digest the way authentication finds it: the app's role cannot read the digests.)
    token = ApiToken.objects.get(ApiToken.with_key(body["token"]))
    assert token.user_id == user.pk
    assert (token.tenant_id, token.role) == (None, "")
    with connection.cursor() as cursor:  # no token's stored digest is the key itself
        cursor.execute("SELECT vigil_api_token_id(%s)", [body["token"]])
        assert cursor.fetchone() == (None,)
    assert AuditEntry.unscoped.filter(
        verb="token.created", target_id=str(token.pk), actor_id=user.pk
    ).exists()

    me = token_client(body["token"]).get(f"/api/v1/users/{user.pk}/")
    assert me.status_code == 200
    assert me.json()["username"] == "grace"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_platform_admins_personal_token_acts_as_platform_admin(superuser):
    device = authenticator_for(superuser)  # platform administrators must use two-factor authentication
    body = {"username": "root", "password": PASSWORD, "otp": totp_code(device)}
    key = APIClient().post(TOKEN_URL, body, format="json").json()["token"]

    response = token_client(key).post(
        "/api/v1/tenants/", {"name": "Legal", "slug": "legal", "reference_prefix": "LEG"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert Tenant.objects.filter(slug="legal").exists()


@pytest.mark.parametrize(
    ("username", "password"),
    [("grace", "wrong-password-123"), ("nobody", PASSWORD), ("GRACE ", PASSWORD)],
    ids=["wrong-password", "unknown-user", "other-username"],
)
def test_bad_credentials_are_400_json(tenant, make_member, username, password):
    make_member("handler", tenant, username="grace")

    response = sign_in(username, password)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()
    assert "token" not in response.json()
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(tenant, make_member):
    make_member("handler", tenant, username="grace", is_active=False)

    response = sign_in("grace")

    assert response.status_code == 400
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({}, {"username", "password"}),
        ({"username": "grace"}, {"password"}),
        ({"password": PASSWORD}, {"username"}),
    ],
)
def test_missing_fields_are_named(db, body, missing):
    response = APIClient().post(TOKEN_URL, body, format="json")

    assert response.status_code == 400
    assert set(response.json()) == missing


def test_a_service_account_cannot_sign_in_with_a_password(tenant, superuser):
    with transaction.atomic(), activate(access_for(superuser)):
        user, _, _ = service_account_create(
            actor=superuser, access=access_for(superuser), tenant=tenant, role="handler", name="siem"
        )
    user.set_password(PASSWORD)
    user.save()

    response = sign_in(user.username)

    assert response.status_code == 400
    assert not ApiToken.objects.filter(user=user, tenant__isnull=True).exists()


# --- tokens that no longer work ----------------------------------------------------------------------


def _personal_token(user, **kwargs):
    with transaction.atomic():
        return token_create(actor=user, user=user, name="test", **kwargs)


def test_a_revoked_token_is_401(tenant, make_member):
    user = make_member("handler", tenant)
    token, key = _personal_token(user)
    assert token_client(key).get("/api/v1/tenants/").status_code == 200

    with transaction.atomic():
        token_revoke(actor=user, token=token)
    response = token_client(key).get("/api/v1/tenants/")

    assert response.status_code == 401
    assert "detail" in response.json()


def test_an_expired_token_is_401(tenant, make_member):
    user = make_member("handler", tenant)
    token, key = _personal_token(user, ttl=timedelta(hours=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = token_client(key).get("/api/v1/tenants/")

    assert response.status_code == 401
    assert "detail" in response.json()


def test_an_unknown_token_is_401(db):
    response = token_client("vgl_" + get_random_string(40)).get("/api/v1/tenants/")

    assert response.status_code == 401


def test_a_deactivated_users_token_is_401(tenant, make_member):
    user = make_member("handler", tenant)
    _, key = _personal_token(user)
    user.is_active = False
    user.save()

    assert token_client(key).get("/api/v1/tenants/").status_code == 401


# --- service accounts --------------------------------------------------------------------------------


@pytest.fixture
def service_account(tenant, superuser):
    """A SIEM integration with a handler token bound to `tenant`."""
    access = access_for(superuser)
    with transaction.atomic(), activate(access):
        user, token, key = service_account_create(
            actor=superuser, access=access, tenant=tenant, role="handler", name="siem"
        )
    return user, token, key


def test_service_account_token_is_bound_to_its_tenant_and_role(service_account, tenant):
    user, token, key = service_account

    assert user.is_service_account
    assert not user.has_usable_password()
    assert (token.tenant_id, token.role) == (tenant.pk, "handler")
    assert list(Membership.unscoped.filter(user=user).values_list("tenant_id", "role")) == [
        (tenant.pk, "handler")
    ]
    response = token_client(key).get("/api/v1/tenants/")
    assert {row["id"] for row in response.json()["results"]} == {str(tenant.pk)}


def test_service_account_sees_only_its_tokens_tenant_despite_more_memberships(
    service_account, tenant, other_tenant
):
    user, _, key = service_account
    parent = TenantFactory()
    Tenant.objects.filter(pk=tenant.pk).update(parent=parent, path=f"{parent.path}{tenant.pk}/")
    tenant.refresh_from_db()
    MembershipFactory(user=user, tenant=other_tenant, role="manager")
    MembershipFactory(user=user, tenant=parent, role="auditor")
    IncidentFactory(tenant=other_tenant)
    IncidentFactory(tenant=parent)
    mine = IncidentFactory(tenant=tenant)
    client = token_client(key)

    tenants = client.get("/api/v1/tenants/")
    incidents = client.get("/api/v1/incidents/")

    assert {row["id"] for row in tenants.json()["results"]} == {str(tenant.pk)}
    assert {row["id"] for row in incidents.json()["results"]} == {str(mine.pk)}
    assert client.get(f"/api/v1/tenants/{other_tenant.pk}/").status_code == 404
    # The parent's auditor role does not reach through the token: no audit trail.
    assert client.get("/api/v1/audit/").status_code == 403


def test_service_account_scopes_are_capped_at_the_tokens_role(service_account, tenant):
    user, token, key = service_account
    Membership.unscoped.filter(user=user, tenant=tenant).update(role="manager")
    restricted = IncidentFactory(tenant=tenant, restricted=True)
    open_incident = IncidentFactory(tenant=tenant)
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, tenant=TenantFactory(parent=tenant))

    access = access_for(user, token)
    incidents = token_client(key).get("/api/v1/incidents/")

    assert access.scopes_by_tenant[tenant.pk] == ROLES["handler"].scopes
    assert not access.has_scope(tenant.pk, "incident:read_restricted")
    assert {row["id"] for row in incidents.json()["results"]} == {str(open_incident.pk)}
    assert str(restricted.pk) not in str(incidents.json())
    # Raising the service account's membership to tenant_admin does not let its handler token manage members.
    Membership.unscoped.filter(user=user, tenant=tenant).update(role="tenant_admin")
    response = token_client(key).post(
        "/api/v1/memberships/",
        {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "reporter"},
        format="json",
    )
    assert response.status_code == 403
    assert not Membership.unscoped.filter(user=newcomer, tenant=tenant).exists()


def test_a_tenant_bound_token_of_a_platform_admin_is_capped_too(superuser, tenant, other_tenant):
    MembershipFactory(user=superuser, tenant=tenant, role="auditor")
    with transaction.atomic():
        _, key = token_create(actor=superuser, user=superuser, name="bound", tenant=tenant, role="auditor")
    client = token_client(key)

    assert {row["id"] for row in client.get("/api/v1/tenants/").json()["results"]} == {str(tenant.pk)}
    response = client.post(
        "/api/v1/tenants/", {"name": "X", "slug": "x", "reference_prefix": "XX"}, format="json"
    )
    assert response.status_code == 403
    assert not Tenant.objects.filter(slug="x").exists()


# --- sessions ----------------------------------------------------------------------------------------


def test_session_auth_reads_and_enforces_csrf_on_writes(tenant, make_member):
    admin = make_member("tenant_admin", tenant)
    newcomer = make_member("reporter", TenantFactory(parent=tenant))
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=admin.username, password=PASSWORD)
    pass_second_factor(client, admin)  # tenant admins must use it (tests/web/test_two_factor.py: without)
    body = {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "handler"}

    listed = client.get("/api/v1/memberships/")
    refused = client.post("/api/v1/memberships/", body, format="json")

    assert listed.status_code == 200
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not Membership.unscoped.filter(user=newcomer, tenant=tenant).exists()

    secret = get_random_string(32)
    client.cookies["csrftoken"] = secret
    accepted = client.post("/api/v1/memberships/", body, format="json", HTTP_X_CSRFTOKEN=secret)

    assert accepted.status_code == 201, accepted.json()
    [entry] = AuditEntry.unscoped.filter(verb="membership.created", target_id=accepted.json()["id"])
    assert (entry.actor_id, entry.channel) == (admin.pk, "api")


def test_token_auth_needs_no_csrf(tenant, make_member, api_client_for):
    admin = make_member("tenant_admin", tenant)
    newcomer = make_member("reporter", TenantFactory(parent=tenant))
    client = api_client_for(admin)
    client.handler.enforce_csrf_checks = True

    response = client.post(
        "/api/v1/memberships/",
        {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "handler"},
        format="json",
    )

    assert response.status_code == 201, response.json()


# --- unauthenticated and deny-by-default -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/tenants/"),
        ("get", "/api/v1/users/"),
        ("get", "/api/v1/memberships/"),
        ("post", "/api/v1/memberships/"),
        ("post", "/api/v1/users/"),
        ("get", "/api/v1/incidents/"),
        ("get", "/api/v1/audit/"),
    ],
)
def test_unauthenticated_is_401(db, method, path):
    response = (
        getattr(APIClient(), method)(path, {}, format="json") if method == "post" else APIClient().get(path)
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


class _ProbeViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, TenantScopedViewSet):
    """An endpoint whose author declared a scope for `list` and forgot `create`."""

    serializer_class = TenantSerializer
    action_scopes = {"list": AUTHENTICATED}

    def scoped_queryset(self):
        return Tenant.objects.all()


class _PlainView(views.APIView):
    def get(self, request):
        return Response({"secret": True})


@pytest.mark.parametrize("who", ["superuser", "tenant_admin"])
def test_an_action_without_a_scope_is_refused(tenant, superuser, make_member, who):
    user = superuser if who == "superuser" else make_member("tenant_admin", tenant)
    factory = APIRequestFactory()
    listing = factory.get("/probe/")
    creating = factory.post("/probe/", {"name": "X", "slug": "x", "reference_prefix": "XX"}, format="json")
    force_authenticate(listing, user=user)
    force_authenticate(creating, user=user)

    listed = _ProbeViewSet.as_view({"get": "list", "post": "create"})(listing)
    created = _ProbeViewSet.as_view({"get": "list", "post": "create"})(creating)

    assert listed.status_code == 200
    assert created.status_code == 403
    assert not Tenant.objects.filter(slug="x").exists()


def test_a_view_that_declares_no_permission_refuses_everyone(superuser):
    request = APIRequestFactory().get("/plain/")
    force_authenticate(request, user=superuser)

    response = _PlainView.as_view()(request)

    assert response.status_code == 403
    assert "secret" not in response.data
