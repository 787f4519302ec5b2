"""Handlers open a reporter's attachment from the queue and the assess page (issue 13, defect 3): a
download link through the API's download (same access rule, recorded on the custody log), and after the
decision the file is on the incident's page with its custody."""

import re

import pytest
from django.urls import reverse

from apps.evidence.models import CustodyEvent
from tests.evidence.conftest import MAIL

pytestmark = pytest.mark.django_db


@pytest.fixture
def attachment(attached):
    return attached()


def _link_to(page: str, name: str) -> str:
    found = re.search(rf'<a href="([^"]+)"[^>]*>{re.escape(name)}</a>', page)
    assert found, f"no link named {name}"
    return found.group(1)


def test_the_assess_page_links_the_attachment_for_download(attachment, handler, verified_client_for):
    report, evidence = attachment
    browser = verified_client_for(handler)
    queue = browser.get(reverse("web:queue")).content.decode()
    assess_url = reverse("web:assess", args=[report["id"]])
    assert f'href="{assess_url}#attachments">1 attachment</a>' in queue

    page = browser.get(assess_url).content.decode()
    response = browser.get(_link_to(page, "mail.eml"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="mail.eml"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == MAIL
    downloaded = CustodyEvent.unscoped.get(evidence_id=evidence["id"], action="downloaded")
    assert downloaded.actor == handler


def test_after_the_decision_the_incident_page_has_the_attachment_and_its_custody(
    attachment, handler, verified_client_for, phishing
):
    report, evidence = attachment
    browser = verified_client_for(handler)
    decided = browser.post(
        reverse("web:assess", args=[report["id"]]),
        {
            "decision": "incident",
            "category": str(phishing.pk),
            "impact": "high",
            "urgency": "medium",
            "rationale": "Credential phishing that reached several people.",
        },
    )
    assert decided.status_code == 302
    incident_page = browser.get(decided["Location"]).content.decode()
    assert "mail.eml" in incident_page
    assert f'href="/api/v1/evidence/{evidence["id"]}/download/"' in incident_page

    custody_url = _link_to(
        browser.get(reverse("web:assess", args=[report["id"]])).content.decode(), "Custody"
    )
    custody = browser.get(custody_url)
    assert custody.status_code == 200
    assert "Linked to incident" in custody.content.decode()
