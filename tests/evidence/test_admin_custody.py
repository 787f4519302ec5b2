"""The chain of custody on an evidence item's admin page, for the managers who oversee it."""

import re

from django.urls import reverse

from apps.evidence.models import CustodyEvent
from tests.factories import make_evidence


def test_a_manager_reads_the_chain_of_custody_in_the_departments_zone(incident, manager, verified_client_for):
    item = make_evidence(incident, content=b"firewall log")
    client = verified_client_for(manager)

    page = client.get(reverse("admin:evidence_evidence_change", args=[item.pk])).content.decode()
    custody = CustodyEvent.unscoped.get(evidence=item)
    event_page = client.get(reverse("admin:evidence_custodyevent_change", args=[custody.pk])).content.decode()

    assert 'class="inline-heading">Custody events</h2>' in page
    assert f'<td class="field-by">{custody.actor_repr}</td>' in page
    assert re.search(r'<td class="field-at">\d+ \w{3} \d{4}, \d\d:\d\d CES?T</td>', page)
    assert re.search(r"<h2>\d{4}-\d\d-\d\d \d\d:\d\d CES?T ", event_page)  # the event's title
