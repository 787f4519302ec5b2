"""Timeline entries name their object (which action, which file, which obligation step) and show status
names, not codes: on the incident page and in the API's `label`, for new entries and for entries stored
before names were kept (rendered from their stored data)."""

import re
from html import unescape

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.response.models import TimelineEntry
from apps.tenancy.access import access_for
from apps.tenancy.context import activate


def timeline_of(page: str) -> list[str]:
    section = page[page.index('id="timeline"') :]
    return [unescape(text) for text in re.findall(r"<time [^>]*>[^<]*</time>\s*<p>(.*?)</p>", section)]


def test_entries_name_the_action_the_file_and_the_step_with_status_names(world, client_for, api_client_for):
    incident, handler = world["incident"], world["users"]["handler"]
    client = client_for(handler)
    client.post(reverse("web:incident-transition", args=[incident.pk]), {"to": "investigating"})
    client.post(reverse("web:action-status", args=[incident.pk, world["action"].pk]), {"status": "done"})
    entries = timeline_of(client.get(reverse("web:incident", args=[incident.pk])).content.decode())
    assert "Status: Declared → Investigating" in entries
    assert "Action created: Reset passwords" in entries
    assert "Action updated: Reset passwords (status: Open → Done)" in entries
    assert "Evidence added: auth.log" in entries
    assert "Corrective action created: Tighten the mail filter (owner: " + handler.username + ")" in entries
    assert any(
        e.startswith("Notification obligation opened: GDPR-2 (Notification to supervisory authority)")
        for e in entries
    ), entries
    assert not [e for e in entries if "_" in e or re.search(r"(open|done|investigating) →", e)]

    api = api_client_for(handler).get(f"/api/v1/incidents/{incident.pk}/timeline/", {"page_size": 100})
    labels = [entry["label"] for entry in api.json()["results"]]
    assert "Action updated: Reset passwords (status: Open → Done)" in labels
    assert set(entries) <= set(labels)


def test_an_assignment_names_the_assignee(world, client_for):
    incident, handler = world["incident"], world["users"]["handler"]
    client = client_for(handler)
    client.post(
        reverse("web:action-create", args=[incident.pk]),
        {"title": "Block the sender", "assignee": str(handler.pk), "due_at": ""},
    )
    entries = timeline_of(client.get(reverse("web:incident", args=[incident.pk])).content.decode())
    assert f"Action created: Block the sender (assignee: {handler.username})" in entries


def test_entries_stored_before_names_were_kept_read_from_their_data(world, client_for):
    incident = world["incident"]
    with activate(access_for(world["users"]["manager"])), transaction.atomic():
        for verb, summary, data in [
            ("action.updated", "Action updated (status)", {"changes": {"status": ["open", "cancelled"]}}),
            ("evidence.added", "Evidence added (sha256)", {"changes": {}, "name": "old-proxy.log"}),
        ]:
            TimelineEntry.unscoped.create(
                tenant_id=incident.tenant_id,
                incident=incident,
                at=timezone.now(),
                kind="automatic",
                verb=verb,
                actor_repr="system",
                summary=summary,
                data=data,
            )
    page = client_for(world["users"]["handler"]).get(reverse("web:incident", args=[incident.pk]))
    entries = timeline_of(page.content.decode())
    assert "Action updated (status: Open → Cancelled)" in entries
    assert "Evidence added: old-proxy.log" in entries
