"""The reviews app's lists cost the same number of queries for 1 row as for 20 (no N+1)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import IncidentFactory
from tests.reviews.factories import CompletedReviewFactory, CorrectiveActionFactory

FEW, MANY = 1, 20


def _review(tenant):
    return CompletedReviewFactory(
        incident=IncidentFactory(tenant=tenant, restricted=True),  # the grant/need-to-know path too
        lessons_learned="Rotate the exposed credentials",
    )


def _action(tenant, review):
    return CorrectiveActionFactory(review=review, due_at=timezone.now() - timedelta(days=1))


# name -> (make one row, URL for it)
CASES = {
    "reviews": (lambda tenant, shared: _review(tenant), lambda shared: "/api/v1/reviews/"),
    "lessons": (lambda tenant, shared: _review(tenant), lambda shared: "/api/v1/lessons/?q=credentials"),
    "latest-lessons": (lambda tenant, shared: _review(tenant), lambda shared: "/api/v1/lessons/"),
    "review-actions": (_action, lambda shared: f"/api/v1/reviews/{shared.pk}/actions/"),
    "corrective-actions": (_action, lambda shared: "/api/v1/corrective-actions/"),
    "overdue-actions": (_action, lambda shared: "/api/v1/corrective-actions/?overdue=true"),
}


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()["results"])


@pytest.mark.parametrize("name", CASES)
def test_list_query_count_is_constant(name, tenant, make_member, api_client_for):
    make, url_for = CASES[name]
    shared = _review(tenant)
    if name in {"reviews", "lessons", "latest-lessons"}:
        shared.delete()  # those lists count reviews themselves
    client = api_client_for(make_member("manager", tenant))
    make(tenant, shared)
    url = url_for(shared)
    client.get(url)  # warm-up: the token's first use writes last_used_at

    few, rows = _count(client, url)
    assert rows == FEW
    for _ in range(MANY - FEW):
        make(tenant, shared)
    many, rows = _count(client, url)
    assert rows == MANY
    assert few == many, f"{name}: {few} queries for {FEW} row(s), {many} for {MANY}"
