"""Post-incident reviews as shown outside Vigil (apps.core.representations)."""

from apps.core.representations import register_representation
from apps.reviews.api.serializers import ReviewSerializer
from apps.reviews.models import Review


def review_representation(review_id) -> dict:
    return ReviewSerializer(Review.unscoped.select_related("incident").get(pk=review_id)).data


register_representation("reviews.review", review_representation)
