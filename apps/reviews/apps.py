from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "apps.reviews"
    label = "reviews"

    def ready(self) -> None:
        from apps.response.lifecycle import register_transition_guard
        from apps.reviews.guards import completed_review_before_closing

        register_transition_guard(completed_review_before_closing)
