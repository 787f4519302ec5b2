"""Authorities per tenant and jurisdiction (ISO 27001 A.5.5): tenant admins write, members read."""

from apps.audit.models import AuditEntry
from apps.tenancy.roles import RoleId
from tests.factories import TenantFactory


def test_tenant_admins_keep_the_authorities(tenant, make_member, api_client_for):
    admin = make_member(RoleId.TENANT_ADMIN, tenant)
    handler = make_member(RoleId.HANDLER, tenant)
    body = {
        "tenant": str(tenant.id),
        "kind": "csirt",
        "name": "CERT-FR",
        "jurisdiction": "FR",
        "country": "FR",
        "regimes": ["nis2"],
        "email": "cert-fr@ssi.gouv.fr",
        "portal_url": "https://www.cert.ssi.gouv.fr/",
        "last_verified_at": "2026-01-15T10:00:00Z",
    }
    assert api_client_for(handler).post("/api/v1/authorities/", body, format="json").status_code == 403
    response = api_client_for(admin).post("/api/v1/authorities/", body, format="json")
    assert response.status_code == 201, response.json()
    authority_id = response.json()["id"]
    assert AuditEntry.unscoped.filter(verb="authority.created", target_id=authority_id).exists()

    listing = api_client_for(handler).get("/api/v1/authorities/")
    assert [row["name"] for row in listing.json()["results"]] == ["CERT-FR"]
    patched = api_client_for(admin).patch(
        f"/api/v1/authorities/{authority_id}/", {"phone": "+33 1 71 75 84 68"}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["phone"] == "+33 1 71 75 84 68"
    assert (
        api_client_for(handler)
        .patch(f"/api/v1/authorities/{authority_id}/", {"name": "x"}, format="json")
        .status_code
        == 403
    )

    stranger = make_member(RoleId.TENANT_ADMIN, TenantFactory())
    assert api_client_for(stranger).get(f"/api/v1/authorities/{authority_id}/").status_code == 404
