"""The rule reviews adds to the incident lifecycle (design.md, "Guards that live above")."""

from apps.response.choices import Severity
from apps.response.lifecycle import Blocked
from apps.reviews.choices import ReviewStatus
from apps.reviews.models import Review

NEEDS_REVIEW = frozenset({Severity.P1, Severity.P2})
CLOSE_WITHOUT_REVIEW = "A P1/P2 incident closes only with a completed post-incident review."


def completed_review_before_closing(incident, transition) -> Blocked | None:
    """A P1/P2 incident closes (the ordinary close, not the false-alarm one) only once its review is
    completed. Runs inside incident_transition, with the incident row locked, and for the page's close
    control."""
    if transition.verb != "closed" or incident.severity not in NEEDS_REVIEW:
        return None
    if Review.unscoped.filter(incident_id=incident.pk, status=ReviewStatus.COMPLETED).exists():
        return None
    return Blocked(CLOSE_WITHOUT_REVIEW, fix="review")
