import factory
from django.utils import timezone

from apps.reviews.models import CorrectiveAction, Review
from tests.factories import IncidentFactory, UnscopedFactory


class ReviewFactory(UnscopedFactory):
    class Meta:
        model = Review

    incident = factory.SubFactory(IncidentFactory)
    tenant = factory.SelfAttribute("incident.tenant")
    root_cause = "An unpatched VPN appliance"
    lessons_learned = "Patch edge devices within 48 hours"


class CompletedReviewFactory(ReviewFactory):
    status = "completed"
    completed_at = factory.LazyFunction(timezone.now)


class CorrectiveActionFactory(UnscopedFactory):
    class Meta:
        model = CorrectiveAction

    review = factory.SubFactory(ReviewFactory)
    tenant = factory.SelfAttribute("review.tenant")
    title = factory.Sequence(lambda n: f"Corrective action {n}")
