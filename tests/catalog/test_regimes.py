"""Regimes as data: every row of deadlines.csv shipped, read at /api/v1/regimes/; tenants add their own."""

import pytest

from apps.catalog.models import Regime, RegimeStep
from apps.tenancy.roles import RoleId
from tests.factories import TenantFactory


@pytest.fixture
def reporter(make_member, tenant):
    return make_member(RoleId.REPORTER, tenant)


@pytest.fixture
def admin(make_member, tenant):
    return make_member(RoleId.TENANT_ADMIN, tenant)


def _regimes(client, **params) -> dict:
    response = client.get("/api/v1/regimes/", {"page_size": 200, **params})
    assert response.status_code == 200, response.json()
    return {row["code"]: row for row in response.json()["results"]}


def test_shipped_regimes_and_steps(reporter, api_client_for):
    regimes = _regimes(api_client_for(reporter))
    assert len(regimes) == 20
    gdpr = regimes["gdpr"]
    assert gdpr["tenant"] is None
    assert gdpr["enabled"] is True
    assert gdpr["jurisdiction"] == "EU"
    steps = {step["code"]: step for step in gdpr["steps"]}
    assert list(steps) == ["GDPR-1", "GDPR-2", "GDPR-3", "GDPR-4", "GDPR-5"]
    notification = steps["GDPR-2"]
    assert notification["anchor"] == "aware_at"
    assert (notification["duration"], notification["unit"]) == (72, "calendar_hours")
    assert notification["citation"].startswith("GDPR Art. 33(1)")
    assert notification["confidence"] == "V"
    assert notification["scope"] == "incident"
    assert "nature of the breach" in notification["notice_contents"].lower()
    assert steps["GDPR-5"]["scope"] == "policy", "guidance is shown with the regime"
    # Not in force yet: shipped disabled, as the csv says.
    assert regimes["circia"]["enabled"] is False
    assert regimes["dpdp-in"]["enabled"] is False
    assert {code for code, row in regimes.items() if not row["enabled"]} == {"circia", "dpdp-in"}
    lgpd = {step["code"]: step for step in regimes["lgpd"]["steps"]}
    assert lgpd["BR-1"]["adjustment"] == "x2 when tenant:lgpd_small_agent"
    assert lgpd["BR-1"]["holiday_country"] == "BR"


def test_the_migration_reads_the_apps_own_copy_of_the_csv():
    import importlib
    from pathlib import Path

    import apps.catalog

    migration = importlib.import_module("apps.catalog.migrations.0004_shipped_regimes")
    assert Path(apps.catalog.__file__).parent / "data" / "deadlines.csv" == migration.CSV_PATH
    assert migration.CSV_PATH.exists()


def test_a_tenant_admin_adds_the_tenants_own_regime(admin, reporter, tenant, api_client_for, make_member):
    body = {
        "tenant": str(tenant.id),
        "code": "acme-contract",
        "name": "ACME master services agreement",
        "jurisdiction": "",
        "steps": [
            {
                "code": "ACME-1",
                "name": "Notify ACME's security desk",
                "recipient": "ACME SOC",
                "duration": 48,
                "unit": "calendar_hours",
                "anchor_source": "incident:aware_at",
                "citation": "MSA §12.3",
            },
            {
                "code": "ACME-2",
                "name": "Root-cause report",
                "duration": 10,
                "unit": "business_days",
                "holiday_country": "tenant",
                "anchor_source": "step:ACME-1",
            },
        ],
    }
    assert api_client_for(reporter).post("/api/v1/regimes/", body, format="json").status_code == 403
    response = api_client_for(admin).post("/api/v1/regimes/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["tenant"] == str(tenant.id)
    assert [step["code"] for step in response.json()["steps"]] == ["ACME-1", "ACME-2"]
    assert RegimeStep.unscoped.filter(regime__code="acme-contract", tenant=tenant).count() == 2

    assert "acme-contract" in _regimes(api_client_for(reporter))
    outsider_of_tenant = make_member(RoleId.TENANT_ADMIN, TenantFactory())
    assert "acme-contract" not in _regimes(api_client_for(outsider_of_tenant))


def test_a_tenants_code_may_not_reuse_a_shipped_one(admin, tenant, api_client_for):
    client = api_client_for(admin)
    response = client.post(
        "/api/v1/regimes/", {"tenant": str(tenant.id), "code": "gdpr", "name": "Ours"}, format="json"
    )
    assert response.status_code == 400
    assert "code" in response.json()
    bad_anchor = client.post(
        "/api/v1/regimes/",
        {
            "tenant": str(tenant.id),
            "code": "internal",
            "name": "Internal policy",
            "steps": [{"code": "I-1", "name": "Tell the CISO", "anchor_source": "incident:made_up"}],
        },
        format="json",
    )
    assert bad_anchor.status_code == 400
    assert not Regime.unscoped.filter(code="internal").exists()


def test_shipped_regimes_are_read_only(admin, api_client_for):
    gdpr = Regime.unscoped.get(tenant=None, code="gdpr")
    response = api_client_for(admin).patch(f"/api/v1/regimes/{gdpr.pk}/", {"enabled": False}, format="json")
    assert response.status_code == 403
    gdpr.refresh_from_db()
    assert gdpr.enabled is True
