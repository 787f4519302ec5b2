"""What a tenant admin may not do, so that one department's admin cannot reach another department."""

from tests.factories import MembershipFactory


def test_tenant_admin_cannot_reset_someone_who_also_belongs_elsewhere(
    make_member, tenant, other_tenant, api_client_for
):
    admin = make_member("tenant_admin", tenant)
    local = make_member("reporter", tenant)
    shared = make_member("reporter", tenant)
    MembershipFactory(user=shared, tenant=other_tenant, role="tenant_admin")
    client = api_client_for(admin)

    assert (
        client.patch(f"/api/v1/users/{local.pk}/", {"password": "a-brand-new-passphrase-1"}).status_code
        == 200
    )
    refused = client.patch(f"/api/v1/users/{shared.pk}/", {"password": "a-brand-new-passphrase-1"})
    assert refused.status_code == 403
    shared.refresh_from_db()
    assert shared.check_password("correct-horse-battery")


def test_only_platform_admins_change_slug_and_reference_prefix(
    make_member, tenant, superuser, api_client_for
):
    admin = make_member("tenant_admin", tenant)
    client = api_client_for(admin)
    for field, value in (("slug", "renamed"), ("reference_prefix", "NEW")):
        response = client.patch(f"/api/v1/tenants/{tenant.pk}/", {field: value})
        assert response.status_code == 403
        assert field in response.json()["detail"]
    assert client.patch(f"/api/v1/tenants/{tenant.pk}/", {"name": "Finance and Treasury"}).status_code == 200
    assert (
        api_client_for(superuser).patch(f"/api/v1/tenants/{tenant.pk}/", {"slug": "fin"}).status_code == 200
    )


def test_permission_errors_keep_the_services_reason(make_member, tenant, api_client_for):
    admin = make_member("tenant_admin", tenant)
    member = make_member("reporter", tenant)
    membership = member.memberships.model.unscoped.get(user=member)
    response = api_client_for(admin).patch(f"/api/v1/memberships/{membership.pk}/", {"role": "executive"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Only platform administrators appoint executives."}
