"""Who is told: the people of a role in a tenant, and of some people those who may read what they would be
told about (need-to-know), each asked with their own access under the one visibility rule of its app."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model

from apps.notifications.selectors import obligation_list
from apps.response.selectors import incident_visible
from apps.tenancy.access import Access, access_for
from apps.tenancy.context import activate
from apps.tenancy.models import Membership, Tenant


def tenant_people(tenant: Tenant, roles: set[str]):
    """Active members holding one of `roles` in the tenant or one of its ancestors (a membership covers
    the tenant's descendants)."""
    ancestors = [part for part in tenant.path.split("/") if part]
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            pk__in=Membership.unscoped.filter(tenant_id__in=ancestors, role__in=roles).values("user_id"),
        )
        .order_by("pk")
    )


def incident_readers(*, incident_id, people: Iterable, actor_id=None) -> dict[bool, list]:
    """Of `people`, those who see the incident (apps.response.selectors.incident_visible, with each one's
    own access: a restricted incident reaches only those cleared or granted), keyed by whether they see
    only its summary. Each person once, never the actor of the change, never an inactive account."""
    readers: dict[bool, list] = {False: [], True: []}
    for person, summary_only in _ask_each(
        people,
        actor_id=actor_id,
        question=lambda access: (
            incident_visible(access=access)
            .filter(pk=incident_id)
            .values_list("summary_only", flat=True)
            .first()
        ),
    ):
        readers[summary_only].append(person)
    return readers


def obligation_readers(*, obligation_id, people: Iterable, actor_id=None) -> list:
    """Of `people`, those who see the obligation (apps.notifications.selectors.obligation_list, with each
    one's own access); each once, never the actor, never an inactive account."""
    return [
        person
        for person, _ in _ask_each(
            people,
            actor_id=actor_id,
            question=lambda access: obligation_list(access=access).filter(pk=obligation_id).exists() or None,
        )
    ]


def notice_people(obligation, roles: set[str], *, actor_id=None) -> list:
    """The obligation's incident owner (none for an annual one) and the tenant's people of `roles`, those
    of them who see the obligation (obligation_readers)."""
    owner = obligation.incident.owner if obligation.incident is not None else None
    people = [owner, *tenant_people(obligation.tenant, roles)]
    return obligation_readers(obligation_id=obligation.pk, people=people, actor_id=actor_id)


def _ask_each(people: Iterable, *, actor_id, question: Callable[[Access], object]) -> list[tuple]:
    """(person, answer) for each distinct active person but the actor whose `question`, asked inside their
    own tenant context (what they would see signed in), has an answer other than None."""
    answered, seen = [], set()
    for person in people:
        if person is None or not person.is_active or person.pk == actor_id or person.pk in seen:
            continue
        seen.add(person.pk)
        access = access_for(person)
        with activate(access):
            answer = question(access)
        if answer is not None:
            answered.append((person, answer))
    return answered
