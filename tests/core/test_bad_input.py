"""Bad input is a 4xx with a JSON body that names the problem, never a 500 (api-v1, Conventions)."""

import json
import uuid
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from apps.tenancy.models import Membership, Tenant
from tests.factories import MembershipFactory, TenantFactory, UserFactory

UNKNOWN = str(uuid.UUID(int=7))


@dataclass
class World:
    tenant: Tenant
    membership: Membership
    clients: dict

    def fill(self, text: str) -> str:
        values = {
            "{tenant}": self.tenant.pk,
            "{membership}": self.membership.pk,
            "{membership_user}": self.membership.user_id,
            "{unknown}": UNKNOWN,
        }
        for placeholder, value in values.items():
            text = text.replace(placeholder, str(value))
        return text


@pytest.fixture
def world(tenant, superuser, make_member, api_client_for):
    tenant_admin = make_member("tenant_admin", tenant)
    membership = MembershipFactory(user=UserFactory(), tenant=tenant, role="reporter")
    return World(
        tenant=tenant,
        membership=membership,
        clients={
            "root": api_client_for(superuser),
            "admin": api_client_for(tenant_admin),
            "anon": APIClient(),
        },
    )


def tenant_body(**fields):
    body = {"name": "Legal", "slug": "legal", "reference_prefix": "LEG", "time_zone": "UTC", "country": "FR"}
    body.update(fields)
    return json.dumps(body)


def membership_body(**fields):
    body = {"user": "{membership_user}", "tenant": "{tenant}", "role": "handler"}
    body.update(fields)
    return json.dumps(body)


JSON = "application/json"

# (id, caller, method, path, raw body, content type, status, the key the error body must name)
CASES = [
    # malformed bodies
    ("truncated-json", "root", "post", "/api/v1/tenants/", '{"name": "Legal", ', JSON, 400, "detail"),
    ("not-json-at-all", "admin", "post", "/api/v1/memberships/", "role=handler", JSON, 400, "detail"),
    ("nan-literal", "root", "post", "/api/v1/tenants/", '{"name": NaN}', JSON, 400, "detail"),
    ("deeply-nested", "root", "post", "/api/v1/tenants/", "[" * 50_000, JSON, 400, "detail"),
    ("deeply-nested-login", "anon", "post", "/api/v1/auth/token/", "{" * 50_000, JSON, 400, "detail"),
    ("not-utf8", "root", "post", "/api/v1/tenants/", b'{"name": "\xff\xfe"}', JSON, 400, "detail"),
    ("json-array", "root", "post", "/api/v1/tenants/", "[1, 2]", JSON, 400, "non_field_errors"),
    ("json-string", "admin", "post", "/api/v1/memberships/", '"handler"', JSON, 400, "non_field_errors"),
    ("json-null", "root", "post", "/api/v1/tenants/", "null", JSON, 400, "non_field_errors"),
    ("login-array", "anon", "post", "/api/v1/auth/token/", "[]", JSON, 400, "non_field_errors"),
    # wrong types
    ("role-int", "admin", "post", "/api/v1/memberships/", membership_body(role=5), JSON, 400, "role"),
    (
        "role-list",
        "admin",
        "post",
        "/api/v1/memberships/",
        membership_body(role=["handler"]),
        JSON,
        400,
        "role",
    ),
    (
        "role-object",
        "admin",
        "post",
        "/api/v1/memberships/",
        membership_body(role={"$ne": ""}),
        JSON,
        400,
        "role",
    ),
    (
        "role-unknown",
        "admin",
        "post",
        "/api/v1/memberships/",
        membership_body(role="boss"),
        JSON,
        400,
        "role",
    ),
    (
        "user-not-uuid",
        "admin",
        "post",
        "/api/v1/memberships/",
        membership_body(user="bob"),
        JSON,
        400,
        "user",
    ),
    ("user-bool", "admin", "post", "/api/v1/memberships/", membership_body(user=True), JSON, 400, "user"),
    (
        "tenant-negative",
        "admin",
        "post",
        "/api/v1/memberships/",
        membership_body(tenant=-1),
        JSON,
        400,
        "tenant",
    ),
    ("parent-int", "root", "post", "/api/v1/tenants/", tenant_body(parent=12), JSON, 400, "parent"),
    ("parent-object", "root", "post", "/api/v1/tenants/", tenant_body(parent={"id": 1}), JSON, 400, "parent"),
    ("parent-huge-float", "root", "post", "/api/v1/tenants/", tenant_body(parent=1e308), JSON, 400, "parent"),
    ("name-list", "root", "post", "/api/v1/tenants/", tenant_body(name=["Legal"]), JSON, 400, "name"),
    ("country-bool", "root", "post", "/api/v1/tenants/", tenant_body(country=True), JSON, 400, "country"),
    ("time-zone-int", "root", "post", "/api/v1/tenants/", tenant_body(time_zone=1), JSON, 400, "time_zone"),
    (
        "is-active-text",
        "root",
        "post",
        "/api/v1/users/",
        '{"username": "u", "is_active": "maybe"}',
        JSON,
        400,
        "is_active",
    ),
    (
        "email-invalid",
        "root",
        "post",
        "/api/v1/users/",
        '{"username": "u", "email": "not-an-email"}',
        JSON,
        400,
        "email",
    ),
    ("username-spaces", "root", "post", "/api/v1/users/", '{"username": "a b c"}', JSON, 400, "username"),
    (
        "password-object",
        "anon",
        "post",
        "/api/v1/auth/token/",
        '{"username": "u", "password": {}}',
        JSON,
        400,
        "password",
    ),
    # unknown and read-only fields
    ("unknown-field", "root", "post", "/api/v1/tenants/", tenant_body(colour="red"), JSON, 400, "colour"),
    ("read-only-id", "root", "post", "/api/v1/tenants/", tenant_body(id=UNKNOWN), JSON, 400, "id"),
    ("internal-path", "root", "post", "/api/v1/tenants/", tenant_body(path="/x/"), JSON, 400, "path"),
    (
        "unknown-on-membership",
        "admin",
        "post",
        "/api/v1/memberships/",
        membership_body(admin=True),
        JSON,
        400,
        "admin",
    ),
    (
        "superuser-on-user",
        "root",
        "post",
        "/api/v1/users/",
        '{"username": "u", "is_superuser": true}',
        JSON,
        400,
        "is_superuser",
    ),
    (
        "service-flag-on-user",
        "root",
        "post",
        "/api/v1/users/",
        '{"username": "u", "is_service_account": true}',
        JSON,
        400,
        "is_service_account",
    ),
    (
        "unknown-on-login",
        "anon",
        "post",
        "/api/v1/auth/token/",
        '{"username": "u", "password": "p", "x": 1}',
        JSON,
        400,
        "x",
    ),
    (
        "move-membership",
        "admin",
        "patch",
        "/api/v1/memberships/{membership}/",
        '{"tenant": "{tenant}"}',
        JSON,
        400,
        "tenant",
    ),
    # over-long and forbidden strings
    ("name-201", "root", "post", "/api/v1/tenants/", tenant_body(name="x" * 201), JSON, 400, "name"),
    ("slug-101", "root", "post", "/api/v1/tenants/", tenant_body(slug="s" * 101), JSON, 400, "slug"),
    ("name-nul", "root", "post", "/api/v1/tenants/", tenant_body(name="Le\u0000gal"), JSON, 400, "name"),
    (
        "name-surrogate",
        "root",
        "post",
        "/api/v1/tenants/",
        '{"name": "\\ud800", "slug": "s", "reference_prefix": "SS"}',
        JSON,
        400,
        "name",
    ),
    (
        "username-151",
        "root",
        "post",
        "/api/v1/users/",
        json.dumps({"username": "u" * 151}),
        JSON,
        400,
        "username",
    ),
    (
        "name-201-on-update",
        "admin",
        "patch",
        "/api/v1/tenants/{tenant}/",
        json.dumps({"name": "x" * 201}),
        JSON,
        400,
        "name",
    ),
    (
        "login-username-long",
        "anon",
        "post",
        "/api/v1/auth/token/",
        json.dumps({"username": "u" * 151, "password": "p"}),
        JSON,
        400,
        "username",
    ),
    # unknown ids in bodies
    ("unknown-parent", "root", "post", "/api/v1/tenants/", tenant_body(parent=UNKNOWN), JSON, 400, "parent"),
    (
        "unknown-user",
        "admin",
        "post",
        "/api/v1/memberships/",
        membership_body(user=UNKNOWN),
        JSON,
        400,
        "user",
    ),
    (
        "unknown-tenant",
        "admin",
        "post",
        "/api/v1/memberships/",
        membership_body(tenant=UNKNOWN),
        JSON,
        400,
        "tenant",
    ),
    (
        "unknown-tenant-new-user",
        "admin",
        "post",
        "/api/v1/users/",
        json.dumps({"username": "u", "tenant": UNKNOWN}),
        JSON,
        400,
        "tenant",
    ),
    # missing fields
    ("empty-membership", "admin", "post", "/api/v1/memberships/", "{}", JSON, 400, "role"),
    ("empty-tenant", "root", "post", "/api/v1/tenants/", "{}", JSON, 400, "reference_prefix"),
    # wrong content types
    ("text-plain", "root", "post", "/api/v1/tenants/", tenant_body(), "text/plain", 415, "detail"),
    ("xml", "admin", "post", "/api/v1/memberships/", "<membership/>", "application/xml", 415, "detail"),
    ("yaml-login", "anon", "post", "/api/v1/auth/token/", "username: u", "application/yaml", 415, "detail"),
    # ids in URLs that are not ids
    ("tenant-id-not-uuid", "root", "get", "/api/v1/tenants/not-a-uuid/", None, None, 404, "detail"),
    ("tenant-id-int", "admin", "patch", "/api/v1/tenants/12/", '{"name": "x"}', JSON, 404, "detail"),
    ("user-id-not-uuid", "root", "get", "/api/v1/users/root/", None, None, 404, "detail"),
    ("membership-id-not-uuid", "admin", "get", "/api/v1/memberships/abc/", None, None, 404, "detail"),
    ("membership-delete-not-uuid", "admin", "delete", "/api/v1/memberships/abc/", None, None, 404, "detail"),
    (
        "membership-unknown-uuid",
        "admin",
        "patch",
        "/api/v1/memberships/{unknown}/",
        '{"role": "handler"}',
        JSON,
        404,
        "detail",
    ),
    ("audit-id-not-int", "root", "get", "/api/v1/audit/abc/", None, None, 404, "detail"),
    ("dotted-id", "root", "get", "/api/v1/tenants/a.b/", None, None, 404, "detail"),
    ("no-such-endpoint", "root", "get", "/api/v1/nothing-here/", None, None, 404, "detail"),
    # bad query parameters
    ("tenant-filter-not-uuid", "admin", "get", "/api/v1/memberships/?tenant=abc", None, None, 400, "tenant"),
    ("tenant-filter-foreign", "admin", "get", "/api/v1/tenants/?tenant={unknown}", None, None, 400, "tenant"),
    ("user-filter-not-uuid", "admin", "get", "/api/v1/memberships/?user=bob", None, None, 400, "user"),
    ("role-filter-unknown", "admin", "get", "/api/v1/memberships/?role=boss", None, None, 400, "role"),
    ("garbage-cursor", "admin", "get", "/api/v1/memberships/?cursor=garbage", None, None, 404, "detail"),
    # operations a resource does not allow
    ("delete-tenant", "root", "delete", "/api/v1/tenants/{tenant}/", None, None, 405, "detail"),
]


@pytest.mark.parametrize(
    ("caller", "method", "path", "body", "content_type", "status", "names"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_a_named_4xx(world, caller, method, path, body, content_type, status, names):
    tenants_before = Tenant.objects.count()
    memberships_before = Membership.unscoped.count()
    if isinstance(body, str):
        body = world.fill(body)
    client = world.clients[caller]

    kwargs = {"content_type": content_type} if content_type else {}
    response = client.generic(method.upper(), world.fill(path), body or "", **kwargs)

    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert isinstance(payload, dict)
    assert names in payload, payload
    assert payload[names]
    assert Tenant.objects.count() == tenants_before
    assert Membership.unscoped.count() == memberships_before


@pytest.mark.parametrize("path", ["/api/v1/incidents/xyz/", "/api/v1/incidents/xyz/grants/"])
def test_non_uuid_incident_ids_are_404(world, path):
    response = world.clients["root"].get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_the_bodies_used_above_are_valid_when_corrected(world):
    """Guards the table: each case fails only because of the one thing it breaks."""
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, tenant=TenantFactory(parent=world.tenant), role="reporter")

    tenant = world.clients["root"].post("/api/v1/tenants/", json.loads(tenant_body()), format="json")
    membership = world.clients["admin"].post(
        "/api/v1/memberships/",
        json.loads(world.fill(membership_body().replace("{membership_user}", str(newcomer.pk)))),
        format="json",
    )

    assert tenant.status_code == 201, tenant.json()
    assert membership.status_code == 201, membership.json()
