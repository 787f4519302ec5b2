from django.test import Client

from apps.audit.models import AuditEntry
from apps.catalog.models import Regime, RegimeStep
from tests.two_factor import sign_in_verified


def _add_form(tenant, **overrides):
    data = {
        "tenant": str(tenant.pk),
        "code": "acme-contract",
        "name": "Acme customer contract",
        "description": "Notify Acme's SOC within 48 hours",
        "jurisdiction": "",
        "enabled": "on",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-code": "ACME-1",
        "steps-0-name": "Notice to Acme SOC",
        "steps-0-recipient": "Acme SOC",
        "steps-0-duration": "48",
        "steps-0-unit": "calendar_hours",
        "steps-0-anchor_source": "incident:aware_at",
        "steps-0-notice": "ACME-1",
        "steps-0-scope": "incident",
        "steps-0-citation": "MSA §12.3",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_a_tenant_admin_adds_its_own_regime_with_steps_in_the_admin(make_member, tenant):
    client = Client()
    sign_in_verified(client, make_member("tenant_admin", tenant))
    response = client.post("/admin/catalog/regime/add/", _add_form(tenant))
    assert response.status_code == 302, response.context and response.context["errors"]
    regime = Regime.unscoped.get(code="acme-contract")
    assert regime.tenant_id == tenant.id
    assert list(RegimeStep.unscoped.filter(regime=regime).values_list("code", "duration")) == [("ACME-1", 48)]
    assert AuditEntry.unscoped.get(verb="regime.created").channel == "admin"


def test_shipped_regimes_stay_read_only_and_codes_stay_unique(make_member, tenant):
    client = Client()
    sign_in_verified(client, make_member("tenant_admin", tenant))
    taken = client.post("/admin/catalog/regime/add/", _add_form(tenant, code="gdpr"))
    assert taken.status_code == 200  # the form comes back with the service's error
    assert not Regime.unscoped.filter(code="gdpr", tenant=tenant).exists()
    gdpr = Regime.unscoped.get(code="gdpr", tenant=None)
    response = client.post(f"/admin/catalog/regime/{gdpr.pk}/change/", {"name": "Renamed", "_save": "Save"})
    assert response.status_code == 403
    gdpr.refresh_from_db()
    assert gdpr.name != "Renamed"


def test_another_tenants_admin_cannot_add_regimes_to_it(make_member, tenant, other_tenant):
    client = Client()
    sign_in_verified(client, make_member("tenant_admin", other_tenant))
    response = client.post("/admin/catalog/regime/add/", _add_form(tenant))
    assert response.status_code == 200  # `tenant` is not a valid choice for them
    assert not Regime.unscoped.filter(code="acme-contract").exists()
