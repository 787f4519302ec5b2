"""A review's corrective actions on its admin page, for the manager who approves it."""

from tests.factories import IncidentFactory
from tests.reviews.factories import CorrectiveActionFactory, ReviewFactory


def test_a_manager_reads_the_reviews_corrective_actions(tenant, manager, verified_client_for):
    review = ReviewFactory(incident=IncidentFactory(tenant=tenant))
    action = CorrectiveActionFactory(review=review, title="Patch the VPN appliances", owner=manager)

    page = verified_client_for(manager).get(f"/admin/reviews/review/{review.pk}/change/").content.decode()

    assert 'class="inline-heading">Corrective actions</h2>' in page
    assert '<td class="field-title">Patch the VPN appliances</td>' in page
    assert f'href="/admin/reviews/correctiveaction/{action.pk}/change/"' in page
