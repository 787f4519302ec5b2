"""Reviews in the admin site: only the signed-in person's tenants, writes through the services."""

from django.test import Client

from apps.response.models import TimelineEntry
from apps.reviews.models import CorrectiveAction, Review
from tests.factories import IncidentFactory
from tests.reviews.factories import CompletedReviewFactory, CorrectiveActionFactory, ReviewFactory
from tests.two_factor import pass_second_factor

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


def _signed_in(user) -> Client:
    client = Client()
    client.post("/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD})
    pass_second_factor(client, user)  # the admin site asks everyone for it (tests/two_factor.py)
    return client


def _form(review: Review, **texts) -> dict:
    data = {
        name: getattr(review, name)
        for name in [
            "timeline_summary",
            "root_cause",
            "contributing_factors",
            "went_well",
            "went_badly",
            "lessons_learned",
        ]
    }
    # The read-only actions inline still posts its management form.
    prefix = "actions"
    data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return {**data, **texts}


def test_a_manager_sees_its_tenants_reviews_only(tenant, other_tenant, manager):
    ours = ReviewFactory(incident=IncidentFactory(tenant=tenant))
    theirs = ReviewFactory(incident=IncidentFactory(tenant=other_tenant))
    client = _signed_in(manager)
    response = client.get("/admin/reviews/review/")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [ours]
    assert client.get(f"/admin/reviews/review/{theirs.pk}/change/").status_code == 404


def test_edits_go_through_the_service_and_completed_reviews_are_frozen(tenant, manager):
    review = ReviewFactory(incident=IncidentFactory(tenant=tenant))
    client = _signed_in(manager)
    url = f"/admin/reviews/review/{review.pk}/change/"
    response = client.post(url, _form(review, went_well="Quick containment"))
    assert response.status_code == 302, response.content[:2000]
    assert Review.unscoped.get(pk=review.pk).went_well == "Quick containment"
    assert TimelineEntry.unscoped.filter(incident=review.incident, verb="review.updated").exists()

    done = CompletedReviewFactory(incident=IncidentFactory(tenant=tenant))
    client.post(f"/admin/reviews/review/{done.pk}/change/", _form(done, root_cause="Rewritten"))
    assert Review.unscoped.get(pk=done.pk).root_cause != "Rewritten"


def test_a_refused_status_change_is_a_message_not_an_error(tenant, manager):
    action = CorrectiveActionFactory(review=ReviewFactory(incident=IncidentFactory(tenant=tenant)))
    client = _signed_in(manager)
    url = f"/admin/reviews/correctiveaction/{action.pk}/change/"
    response = client.post(url, {"title": action.title, "kind": "corrective", "status": "verified"})
    assert response.status_code == 302
    assert CorrectiveAction.unscoped.get(pk=action.pk).status == "open"
    page = client.get(url)
    assert "cannot go from open to verified" in page.content.decode()
    ok = client.post(url, {"title": action.title, "kind": "corrective", "status": "in_progress"})
    assert ok.status_code == 302
    assert CorrectiveAction.unscoped.get(pk=action.pk).status == "in_progress"
