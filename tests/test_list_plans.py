"""The plans of the big lists under row-level security (issue 7): a page of one tenant's incidents or
evidence walks an ordered index and stops after the page; it never reads and sorts all of the tenant's rows.

The data is a few thousand rows per tenant, copied in bulk from one real row, then ANALYZEd by the owner; the
plans are read through the app's own connection (the runtime role, policies on) inside the handler's context,
exactly as a request runs them. bench/ shows the same plans at a million incidents.
"""

from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from apps.evidence.models import Evidence
from apps.evidence.selectors import evidence_list
from apps.response.models import Incident
from apps.response.selectors import incident_list
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from tests.factories import IncidentFactory, TenantFactory, make_evidence

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])

PAGE = 51  # a page of 50 and the one that tells whether there is a next page


def _copies(template, count: int, **changes) -> list:
    """`count` copies of a saved row, each a minute older than the last, with `changes(n)` applied."""
    base = {
        f.attname: getattr(template, f.attname) for f in template._meta.concrete_fields if not f.primary_key
    }
    start = timezone.now()
    rows = []
    for n in range(count):
        rows.append(type(template)(**{**base, **{name: change(n) for name, change in changes.items()}}))
        rows[-1].created_at = start - timedelta(minutes=n)
    return rows


@pytest.fixture
def busy_tenants(make_member):
    """The handler's tenant and four others, each with 1,500 incidents and as many evidence items."""
    mine = TenantFactory(name="Finance", reference_prefix="FIN")
    handler = make_member("handler", mine)
    for tenant, count in [(mine, 1500), *((TenantFactory(), 1500) for _ in range(4))]:
        incident = IncidentFactory(tenant=tenant)
        item = make_evidence(incident)
        prefix = f"{tenant.reference_prefix}-{tenant.pk.hex[:6]}"
        Incident.unscoped.bulk_create(
            _copies(incident, count, reference=lambda n, p=prefix: f"{p}-{n:06d}"), batch_size=1000
        )
        evidence = _copies(item, count, uploaded_at=lambda n: timezone.now() - timedelta(minutes=n))
        Evidence.unscoped.bulk_create(evidence, batch_size=1000)
    with connections["owner"].cursor() as cursor:  # only the owner may ANALYZE
        cursor.execute("ANALYZE response_incident; ANALYZE evidence_evidence")
    return handler


@pytest.mark.parametrize(
    ("selector", "ordering", "index"),
    [
        (evidence_list, ("-uploaded_at", "-id"), "evidence_tenant_uploaded"),
        (incident_list, ("-created_at", "-id"), "response_inc_tenant_created"),
    ],
    ids=["evidence", "incidents"],
)
def test_a_page_of_one_tenants_rows_walks_the_ordered_index(busy_tenants, selector, ordering, index):
    access = access_for(busy_tenants)
    with activate(access):
        plan = selector(access=access).order_by(*ordering)[:PAGE].explain()
    print(f"\n{plan}")  # noqa: T201 - shown with -s
    assert "Sort" not in plan, plan
    assert f"Index Scan using {index}" in plan, plan
