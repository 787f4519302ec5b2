"""A reporter reads one vocabulary for a report's status on the confirmation, "My reports", the home page and
the report's page, and learns its outcome as far as need-to-know allows (apps/reporting/outcome.py)."""

import re
from html import unescape

import pytest
from django.db import transaction
from django.urls import reverse

from apps.response.models import Incident
from apps.tenancy.access import access_for
from apps.tenancy.context import activate

RATIONALE = "Sent by Jane Roe of payroll, who clicked the link."


def statuses(page: str) -> list[str]:
    return re.findall(r'data-testid="report-status">([^<]+)<', page)


def pages_of(client, report) -> dict[str, str]:
    return {
        name: unescape(client.get(url).content.decode())
        for name, url in {
            "confirmation": reverse("web:report-filed", args=[report.pk]),
            "list": reverse("web:my-reports"),
            "home": reverse("web:home"),
        }.items()
    }


def assess(world, client_for, phishing, decision: str):
    response = client_for(world["users"]["handler"]).post(
        reverse("web:assess", args=[world["report"].pk]),
        {
            "decision": decision,
            "category": str(phishing.pk),
            "impact": "high",
            "urgency": "medium",
            "rationale": RATIONALE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def change_incident(world, **fields) -> Incident:
    with activate(access_for(world["users"]["manager"])), transaction.atomic():
        incident = Incident.unscoped.get(reports=world["report"])
        Incident.unscoped.filter(pk=incident.pk).update(**fields)
    return incident


@pytest.fixture
def reporter(world, client_for):
    return client_for(world["users"]["reporter"])


def test_a_new_report_waits_for_assessment_in_the_same_words_everywhere(world, reporter):
    pages = pages_of(reporter, world["report"])
    for name, page in pages.items():
        assert statuses(page) == ["Waiting for assessment"], name
    assert "will assess it" in pages["confirmation"]


def test_the_reporter_sees_the_incident_and_its_status_until_it_is_closed(
    world, reporter, client_for, phishing
):
    assess(world, client_for, phishing, "incident")
    incident = change_incident(world, status="investigating")
    pages = pages_of(reporter, world["report"])
    for name, page in pages.items():
        assert statuses(page) == ["Handled as an incident"], name
    for name in ("confirmation", "list"):
        assert f"Incident {incident.reference}: Investigating." in pages[name], name

    change_incident(world, status="closed")
    pages = pages_of(reporter, world["report"])
    for name, page in pages.items():
        assert statuses(page) == ["Incident closed"], name
        assert "will assess" not in page, name
        assert RATIONALE not in page, name
    assert f"Incident {incident.reference}: Closed." in pages["confirmation"]


def test_a_need_to_know_incident_is_only_said_to_be_handled(world, reporter, client_for, phishing):
    assess(world, client_for, phishing, "incident")
    incident = change_incident(world, restricted=True, status="closed", title="Payroll fraud by J. Roe")
    pages = pages_of(reporter, world["report"])
    for name, page in pages.items():
        assert statuses(page) == ["Handled as an incident"], name
        assert incident.reference not in page, name
        assert "Payroll fraud" not in page, name
    assert "need-to-know basis" in pages["confirmation"]


def test_not_an_incident_is_said_without_the_handlers_rationale(world, reporter, client_for, phishing):
    assess(world, client_for, phishing, "not_incident")
    pages = pages_of(reporter, world["report"])
    for name, page in pages.items():
        assert statuses(page) == ["Not an incident"], name
        assert RATIONALE not in page, name
        assert "will assess" not in page, name
    assert "found no security incident" in pages["confirmation"]
