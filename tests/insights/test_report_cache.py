"""The insights reports served from the cache (apps/insights/cache.py) stay correct: after every change made
through the services, the cached figures equal the figures computed from the rows."""

import dataclasses
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.insights.cache import invalidate
from apps.insights.iso27001 import iso27001_sections
from apps.insights.metrics import metrics_computed, metrics_for
from apps.insights.period import Period
from apps.tenancy.access import Access
from apps.tenancy.context import activate
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.INSIGHTS_CACHE_SECONDS = 300


def _from_rows(tenant) -> dict:
    today = timezone.now().date()
    period = Period(today - timedelta(days=364), today)
    with activate(Access.system([tenant.id])):
        return {
            "metrics": metrics_computed(tenant_ids=frozenset({tenant.id}), period=period),
            "controls": [
                dataclasses.asdict(s)
                for s in iso27001_sections(tenant_ids=frozenset({tenant.id}), period=period)
            ],
        }


def _served(client) -> dict:
    metrics = client.get("/api/v1/metrics/").json()
    iso = client.get("/api/v1/compliance/iso27001/").json()
    return {
        "metrics": {k: v for k, v in metrics.items() if k not in ("tenants", "period", "generated_at")},
        "controls": iso["controls"],
    }


def test_cached_figures_equal_the_rows_after_every_lifecycle_change(
    tenant, manager, make_member, api_client_for, phishing, django_capture_on_commit_callbacks
):
    auditor = api_client_for(make_member("auditor", tenant))
    client = api_client_for(manager)
    reporter = api_client_for(make_member("reporter", tenant))

    def change(method, url, body=None):
        # The request's transaction commits inside the test's: run its on-commit work (the invalidation).
        with django_capture_on_commit_callbacks(execute=True):
            response = getattr(client if "report" not in url else reporter, method)(url, body, format="json")
        assert response.status_code in (200, 201), response.content
        return response.json()

    seen = [_served(auditor)]
    assert seen[-1] == _from_rows(tenant)
    incident = change(
        "post",
        "/api/v1/incidents/",
        {
            "tenant": str(tenant.id),
            "title": "Phishing wave",
            "category": str(phishing.id),
            "impact": "low",
            "urgency": "low",
        },
    )
    steps = [
        ("post", f"/api/v1/incidents/{incident['id']}/transition/", {"to": "investigating"}),
        ("post", f"/api/v1/incidents/{incident['id']}/transition/", {"to": "contained"}),
        ("patch", f"/api/v1/incidents/{incident['id']}/", {"root_cause": "No MFA"}),
        ("post", f"/api/v1/incidents/{incident['id']}/transition/", {"to": "recovered"}),
        ("post", f"/api/v1/incidents/{incident['id']}/transition/", {"to": "closed"}),
        (
            "post",
            "/api/v1/reports/",
            {
                "tenant": str(tenant.id),
                "kind": "event",
                "title": "Odd e-mail",
                "occurred_at": timezone.now().isoformat(),
            },
        ),
    ]
    for method, url, body in [(None, None, None), *steps]:
        if method:
            change(method, url, body)
        served = _served(auditor)
        assert served == _from_rows(tenant), f"after {method} {url}"
        if "transition" in (url or "") or method == "post":  # (a root cause of an open incident is not shown)
            assert served != seen[-1], f"{method} {url} changed nothing the reports show"
        seen.append(served)
    assert seen[-1]["metrics"]["incidents"]["by_status"] == {"closed": 1}
    assert seen[-1]["metrics"]["reports"]["total"] == 1


def test_an_unchanged_tenant_is_served_from_the_cache(tenant, make_member, api_client_for):
    auditor = api_client_for(make_member("auditor", tenant))
    first = auditor.get("/api/v1/compliance/iso27001/").json()
    with CaptureQueriesContext(connection) as computed_again:
        second = auditor.get("/api/v1/compliance/iso27001/").json()
    assert second["controls"] == first["controls"]
    assert not [q for q in computed_again.captured_queries if "json_build_array" in q["sql"]]


def test_another_tenants_change_keeps_the_cache(
    tenant, other_tenant, make_member, api_client_for, django_capture_on_commit_callbacks
):
    auditor = api_client_for(make_member("auditor", tenant))
    auditor.get("/api/v1/metrics/")
    other = api_client_for(make_member("reporter", other_tenant))
    with django_capture_on_commit_callbacks(execute=True):
        other.post(
            "/api/v1/reports/",
            {
                "tenant": str(other_tenant.id),
                "kind": "event",
                "title": "Elsewhere",
                "occurred_at": timezone.now().isoformat(),
            },
            format="json",
        )
    with CaptureQueriesContext(connection) as again:
        auditor.get("/api/v1/metrics/")
    assert not [q for q in again.captured_queries if "json_build_array" in q["sql"]]


def test_parts_of_several_tenants_merge_into_exact_figures(tenant, other_tenant):
    """Durations are pooled, not averaged per tenant: the median of 1, 2, 3 and 10 hours is 2.5 (the
    medians of the tenants, 2 and 10, would give 6) and the mean 4."""
    now = timezone.now()
    for tenant_, hours in ((tenant, (1, 2, 3)), (other_tenant, (10,))):
        for h in hours:
            IncidentFactory(
                tenant=tenant_,
                declared_at=now - timedelta(days=1),
                contained_at=now - timedelta(days=1) + timedelta(hours=h),
            )
    today = now.date()
    period = Period(today - timedelta(days=364), today)
    both = frozenset({tenant.id, other_tenant.id})
    with activate(Access.system(both)):
        figures = metrics_computed(tenant_ids=both, period=period)
    assert figures["time_to_hours"]["contain"] == {"count": 4, "mean": 4.0, "median": 2.5}
    assert figures["incidents"]["by_tenant"] == {tenant.slug: 3, other_tenant.slug: 1}
    assert figures["incidents"]["total"] == 4


def test_a_change_in_one_tenant_computes_only_that_tenants_part(tenant, other_tenant):
    today = timezone.now().date()
    period = Period(today - timedelta(days=364), today)
    both = frozenset({tenant.id, other_tenant.id})
    IncidentFactory(tenant=tenant)
    with activate(Access.system(both)):
        before = metrics_for(tenant_ids=both, period=period)
        IncidentFactory(tenant=other_tenant)
        invalidate(other_tenant.id)  # what the event subscriber does after the commit
        with CaptureQueriesContext(connection) as again:
            after = metrics_for(tenant_ids=both, period=period)
    parts = [q["sql"] for q in again.captured_queries if "response_incident" in q["sql"]]
    assert len(parts) == 1
    # The part's aggregates are restricted to the changed tenant (beside the context's own tenant filter).
    assert f"IN ('{other_tenant.id.hex}'::uuid)" in parts[0]
    assert f"IN ('{tenant.id.hex}'::uuid)" not in parts[0]
    assert (before["incidents"]["total"], after["incidents"]["total"]) == (1, 2)
