"""The admin site shows reports and decisions read-only, with the same confidentiality as the API."""

import pytest
from django.test import Client

from tests.two_factor import pass_second_factor

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


def _admin(user) -> Client:
    client = Client()
    client.post("/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD})
    pass_second_factor(client, user)  # the admin site asks everyone for it (tests/two_factor.py)
    return client


@pytest.fixture
def confidential(file_report, reporter):
    return file_report(reporter, confidential=True)


def test_auditors_see_the_report_but_not_its_confidential_reporter(confidential, auditor, reporter):
    client = _admin(auditor)
    page = client.get(f"/admin/reporting/report/{confidential['id']}/change/")
    assert page.status_code == 200
    assert "(confidential)" in page.content.decode()
    assert reporter.username not in page.content.decode()
    listing = client.get("/admin/reporting/report/")
    assert confidential["reference"] in listing.content.decode()
    assert reporter.username not in listing.content.decode()


def test_managers_see_the_confidential_reporter(confidential, manager, reporter):
    page = _admin(manager).get(f"/admin/reporting/report/{confidential['id']}/change/")
    assert page.status_code == 200
    assert reporter.username in page.content.decode()


def test_reports_and_decisions_are_read_only_in_the_admin(confidential, manager):
    client = _admin(manager)
    assert client.get("/admin/reporting/report/add/").status_code == 403
    assert client.post(f"/admin/reporting/report/{confidential['id']}/delete/").status_code == 403
    assert client.get("/admin/assessment/assessment/add/").status_code == 403
    assert client.get("/admin/assessment/assessment/").status_code == 200


def test_another_tenants_report_is_404_in_the_admin(confidential, make_member, other_tenant):
    page = _admin(make_member("manager", other_tenant)).get(
        f"/admin/reporting/report/{confidential['id']}/change/"
    )
    assert page.status_code == 404
