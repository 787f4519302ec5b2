"""No N+1 on any list endpoint: a page of 25 objects costs the same number of queries as a page of 1.

The endpoints come from the isolation matrix's registry (itself checked against the URL configuration),
so a new list endpoint is measured here as soon as it has a recipe there. Token authentication costs
queries of its own (and touches `last_used_at` at most once a minute): each client makes one warm-up
request, then both measured requests run under the same conditions.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.tenancy.roles import RoleId
from tests.factories import IncidentFactory, TenantFactory
from tests.test_isolation_matrix import COLLECTIONS, REGISTRY

FEW, MANY = 1, 25


def _measure(client, url: str) -> tuple[CaptureQueriesContext, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return captured, response.json()


def _sql(captured: CaptureQueriesContext) -> str:
    return "\n".join(f"  {n}. {query['sql']}" for n, query in enumerate(captured.captured_queries, 1))


def _assert_same_count(few: CaptureQueriesContext, many: CaptureQueriesContext, what: str) -> None:
    # Zulip style: on failure show both runs' SQL, so the extra per-row query is visible at once.
    assert len(few) == len(many), (
        f"{what}: {len(few)} queries for the small page but {len(many)} for the large one (N+1?)\n"
        f"--- small page ---\n{_sql(few)}\n--- large page ---\n{_sql(many)}"
    )


@pytest.mark.parametrize("route", COLLECTIONS, ids=lambda r: r.name)
def test_list_query_count_does_not_grow_with_the_page(route, db, make_member, api_client_for):
    entry = REGISTRY[route.name]
    recipe = entry.recipe
    tenant = TenantFactory()
    container = recipe.container(tenant)
    first = recipe.make(tenant, container)
    client = api_client_for(make_member(recipe.witness_role, tenant))
    url = reverse(route.name, kwargs=entry.kwargs(first))
    client.get(url)  # warm-up: the token's first use writes last_used_at

    few, page = _measure(client, url)
    assert str(first.pk) in {str(row["id"]) for row in page["results"]}
    for _ in range(MANY - FEW):
        recipe.make(tenant, container)
    many, page = _measure(client, url)
    assert len(page["results"]) >= MANY, "the large page must hold every object made"

    _assert_same_count(few, many, route.name)


def test_executive_incident_list_costs_the_same_for_one_or_three_child_tenants(
    db, make_member, api_client_for
):
    group = TenantFactory(name="Group")
    first_child = TenantFactory(parent=group)
    IncidentFactory(tenant=first_child)
    IncidentFactory(tenant=first_child, restricted=True)  # summary-only rows take the same path
    client = api_client_for(make_member(RoleId.EXECUTIVE, group))
    url = reverse("incident-list")
    client.get(url)

    one_child, page = _measure(client, url)
    assert len(page["results"]) == 2
    for _ in range(2):
        child = TenantFactory(parent=group)
        IncidentFactory(tenant=child)
        IncidentFactory(tenant=child, restricted=True)
    three_children, page = _measure(client, url)
    assert len(page["results"]) == 6

    _assert_same_count(one_child, three_children, "incident-list for an executive of a parent tenant")


@pytest.mark.parametrize("url", ["/api/v1/compliance/iso27001/", "/api/v1/metrics/"])
def test_insights_reports_cost_the_same_few_queries_whatever_the_data(url, db, make_member, api_client_for):
    """The ISO 27001 report and the metrics are one SQL statement beside the request's own queries
    (apps.insights.batch), whatever the number of rows and tenants they cover (issue 7)."""
    group = TenantFactory()
    IncidentFactory(tenant=group)
    client = api_client_for(make_member(RoleId.AUDITOR, group))
    client.get(url)

    few, _ = _measure(client, url)
    for _ in range(3):
        child = TenantFactory(parent=group)
        IncidentFactory(tenant=child)
        IncidentFactory(tenant=group, status="closed", closed_at=timezone.now())
    many, report = _measure(client, url)
    assert len(report["tenants"]) == 4

    _assert_same_count(few, many, url)
    assert len(many) <= 8, _sql(many)
