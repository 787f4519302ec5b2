"""Search over past incidents and their lessons (PostgreSQL full-text search), so a handler facing a new
incident finds similar ones."""

from datetime import timedelta

from django.utils import timezone

from tests.factories import IncidentFactory
from tests.reviews.factories import CompletedReviewFactory, ReviewFactory


def _search(client, q, **params):
    response = client.get("/api/v1/lessons/", {"q": q, **params})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_a_past_incident_is_found_by_a_word_of_its_lessons(tenant, handler, api_client_for):
    incident = IncidentFactory(tenant=tenant, title="Payroll mailbox compromised", status="closed")
    review = CompletedReviewFactory(
        incident=incident,
        root_cause="Password reuse on the payroll mailbox",
        lessons_learned="Enforce hardware security keys for finance staff",
    )
    hits = _search(api_client_for(handler), "security key")  # stemmed: keys → key
    assert len(hits) == 1
    hit = hits[0]
    assert hit["incident"] == str(incident.pk)
    assert hit["incident_reference"] == incident.reference
    assert hit["incident_title"] == "Payroll mailbox compromised"
    assert hit["review"] == str(review.pk)
    assert "**security**" in hit["headline"]
    assert "**keys**" in hit["headline"]
    assert hit["rank"] > 0
    # The incident's title, the root cause and contributing factors are searched too.
    assert len(_search(api_client_for(handler), "payroll")) == 1
    assert _search(api_client_for(handler), "ransomware") == []


def test_better_matches_rank_first(tenant, handler, api_client_for):
    in_lessons = CompletedReviewFactory(
        incident=IncidentFactory(tenant=tenant, title="Lost laptop"),
        lessons_learned="Encrypt every laptop disk; encrypt backups too",
    )
    in_factors = CompletedReviewFactory(
        incident=IncidentFactory(tenant=tenant, title="Stolen phone"),
        lessons_learned="Remote wipe works",
        contributing_factors="Phones were not encrypted",
    )
    hits = _search(api_client_for(handler), "encrypt")
    assert [hit["review"] for hit in hits] == [str(in_lessons.pk), str(in_factors.pk)]
    assert hits[0]["rank"] > hits[1]["rank"]


def test_only_completed_reviews_of_readable_incidents_are_searched(
    tenant, other_tenant, handler, make_member, api_client_for
):
    lesson = {"lessons_learned": "Segment the building management network"}
    ours = CompletedReviewFactory(incident=IncidentFactory(tenant=tenant), **lesson)
    ReviewFactory(incident=IncidentFactory(tenant=tenant), **lesson)  # a draft: not a lesson yet
    CompletedReviewFactory(incident=IncidentFactory(tenant=other_tenant), **lesson)
    restricted = CompletedReviewFactory(incident=IncidentFactory(tenant=tenant, restricted=True), **lesson)
    assert [hit["review"] for hit in _search(api_client_for(handler), "segment")] == [str(ours.pk)]
    manager_hits = _search(api_client_for(make_member("manager", tenant)), "segment")
    assert {hit["review"] for hit in manager_hits} == {str(ours.pk), str(restricted.pk)}
    # The other tenant's own people find theirs, and never ours.
    theirs = _search(api_client_for(make_member("handler", other_tenant)), "segment")
    assert len(theirs) == 1
    assert theirs[0]["review"] != str(ours.pk)


def test_web_search_syntax_and_bad_queries(tenant, handler, api_client_for):
    CompletedReviewFactory(
        incident=IncidentFactory(tenant=tenant), lessons_learned="Rotate the VPN certificates yearly"
    )
    client = api_client_for(handler)
    assert len(_search(client, '"vpn certificates"')) == 1
    assert _search(client, "vpn -certificates") == []
    assert _search(client, "((( OR ''") == []  # websearch syntax never raises
    assert client.get("/api/v1/lessons/", {"q": "x" * 201}).status_code == 400


def test_without_a_query_the_latest_lessons_come_first(tenant, handler, api_client_for):
    older = CompletedReviewFactory(
        incident=IncidentFactory(tenant=tenant), completed_at=timezone.now() - timedelta(days=3)
    )
    newer = CompletedReviewFactory(incident=IncidentFactory(tenant=tenant), lessons_learned="Short one")
    ReviewFactory(incident=IncidentFactory(tenant=tenant))  # a draft
    client = api_client_for(handler)
    for params in ({}, {"q": "  "}):
        rows = client.get("/api/v1/lessons/", params).json()["results"]
        assert [row["review"] for row in rows] == [str(newer.pk), str(older.pk)]
        assert rows[0]["headline"] == "Short one"
        assert rows[0]["rank"] is None


def test_results_page_without_counting(tenant, handler, api_client_for):
    for n in range(3):
        CompletedReviewFactory(
            incident=IncidentFactory(tenant=tenant), lessons_learned=f"Phishing drill number {n}"
        )
    client = api_client_for(handler)
    first = client.get("/api/v1/lessons/", {"q": "phishing", "page_size": 2}).json()
    assert len(first["results"]) == 2
    assert "count" not in first
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None
    seen = {hit["review"] for hit in first["results"] + second["results"]}
    assert len(seen) == 3
