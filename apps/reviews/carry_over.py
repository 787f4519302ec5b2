"""Where response actions go when their incident closes with the decision to carry them over: they become
corrective actions of the incident's post-incident review (started as a draft if there is none yet).
Registered on response's close in ReviewsConfig.ready(), as the close guard is."""

from apps.response.models import Incident, ResponseAction
from apps.reviews.models import Review
from apps.reviews.services import corrective_action_create, owners_among, review_create
from apps.tenancy.access import Access


def carry_over_to_review(
    *, actor, access: Access, incident: Incident, actions: list[ResponseAction]
) -> list[str]:
    review = Review.unscoped.filter(incident_id=incident.pk).first() or review_create(
        actor=actor, access=access, incident=incident
    )
    # An assignee who may not own a corrective action leaves it unowned (one lookup for all of them).
    assignees = {action.assignee_id for action in actions if action.assignee_id}
    owners = owners_among(assignees, incident.tenant_id)
    created = []
    for action in actions:
        owner = action.assignee if action.assignee_id in owners else None
        description = (
            f"Carried over from the response action “{action.title}” when {incident.reference} closed."
        )
        corrective = corrective_action_create(
            actor=actor,
            access=access,
            review=review,
            title=action.title,
            description="\n\n".join(filter(None, [action.description, description])),
            owner=owner,
            due_at=action.due_at,
        )
        created.append(str(corrective.pk))
    return created
