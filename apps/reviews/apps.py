from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "apps.reviews"
    label = "reviews"

    def ready(self) -> None:
        from apps.response.close import register_carry_over
        from apps.response.lifecycle import register_transition_guard
        from apps.reviews.carry_over import carry_over_to_review
        from apps.reviews.guards import completed_review_before_closing

        register_transition_guard(completed_review_before_closing)
        register_carry_over(carry_over_to_review)
