"""A reporter files a report with an attachment; a handler assesses it into an incident, moves it to
contained, uploads evidence and records the GDPR submission; another tenant's member gets 404; no page
logs a console error. Screenshots of each page land in var/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from apps.catalog.models import Category
from apps.evidence.models import Evidence
from apps.reporting.models import Report
from apps.response.models import Incident
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.two_factor import authenticator_for

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-battery"


@pytest.fixture
def people():
    finance = TenantFactory(name="Finance", reference_prefix="FIN", settings={"regimes": ["gdpr"]})
    engineering = TenantFactory(name="Engineering", reference_prefix="ENG")
    users = {}
    for username, tenant, role in [
        ("rita", finance, "reporter"),
        ("hugo", finance, "handler"),
        ("maria", finance, "manager"),
        ("erik", finance, "executive"),
        ("otto", engineering, "manager"),
    ]:
        users[username] = UserFactory(username=username, first_name=username.capitalize())
        MembershipFactory(user=users[username], tenant=tenant, role=role)
    # Two-factor authentication (managers and executives must): maria and otto set it up at their first
    # sign-in, erik has it already and types the code (tests/browser/conftest.py, Pages.open_as).
    authenticator_for(users["erik"])
    return users


def test_report_assess_contain_upload_submit(pages, people, shot, tmp_path):
    # --- the reporter ---------------------------------------------------------------------------
    rita = pages.open_as("rita", PASSWORD)
    shot(rita, "01-home-reporter")
    rita.get_by_role("link", name="Report something").click()
    rita.get_by_label("What happened, in one line").fill("E-mail asking me to confirm my payroll password")
    rita.get_by_label("Details").fill(
        "Sender was payroll@examp1e.org; the link goes to a look-alike login page."
    )
    rita.get_by_label("What kind of problem is it?").select_option("event")
    attachment = tmp_path / "suspicious-mail.eml"
    attachment.write_text("From: payroll@examp1e.org\nSubject: Confirm now\n\nClick here")
    rita.get_by_label("Attachment (optional)").set_input_files(str(attachment))
    shot(rita, "02-report-form")
    rita.get_by_role("button", name="Send report").click()
    expect(rita.get_by_role("heading", name="Report received")).to_be_visible()
    reference = rita.get_by_test_id("report-reference").inner_text()
    assert re.fullmatch(r"FIN-R-\d{4}-\d{4}", reference)
    expect(rita.get_by_text("suspicious-mail.eml")).to_be_visible()
    shot(rita, "03-report-filed")
    rita.get_by_role("link", name="My reports").first.click()
    expect(rita.get_by_role("cell", name=reference)).to_be_visible()
    shot(rita, "04-my-reports")

    # --- the handler: queue and assessment ------------------------------------------------------
    hugo = pages.open_as("hugo", PASSWORD)
    shot(hugo, "05-home-handler")
    hugo.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    row = hugo.get_by_role("row").filter(has_text=reference)
    shot(hugo, "06-queue")
    row.get_by_role("link", name="Assess").click()
    hugo.get_by_label("Incident", exact=True).check()
    phishing = Category.unscoped.get(code="phishing", tenant=None)
    hugo.get_by_label("Category").select_option(str(phishing.pk))
    hugo.get_by_label("Impact").select_option("high")
    hugo.get_by_label("Urgency").select_option("high")
    highlighted = hugo.locator(".matrix__cell.is-on")
    expect(highlighted).to_have_count(1)
    expect(hugo.locator("#derived-severity")).to_contain_text(highlighted.inner_text())
    hugo.get_by_label("Rationale").fill("Credential phishing aimed at payroll staff.")
    shot(hugo, "07-assessment")
    hugo.get_by_role("button", name="Record decision").click()
    expect(hugo.get_by_text("opened incident")).to_be_visible()
    incident = Incident.unscoped.get(title="E-mail asking me to confirm my payroll password")
    expect(hugo.get_by_test_id("incident-status")).to_have_text("Declared")

    # --- transitions ----------------------------------------------------------------------------
    hugo.get_by_test_id("to-investigating").click()
    expect(hugo.get_by_test_id("incident-status")).to_have_text("Investigating")
    hugo.get_by_test_id("to-contained").click()
    expect(hugo.get_by_test_id("incident-status")).to_have_text("Contained")
    expect(hugo.get_by_test_id("to-closed")).to_have_count(0)  # a handler may not close

    # --- evidence, with the progress bar --------------------------------------------------------
    log = tmp_path / "proxy.log"
    log.write_bytes(b"10:02 GET http://examp1e.org/login 200\n" * 50_000)  # ~2 MB
    upload = hugo.locator("form[data-upload]")
    upload.get_by_label("File").set_input_files(str(log))
    upload.get_by_label("Taken from").fill("proxy-01")
    upload.get_by_label("Method").select_option("log_export")
    upload.get_by_role("button", name="Upload").click()
    expect(hugo.get_by_text("Evidence proxy.log stored.")).to_be_visible()
    expect(hugo.get_by_role("cell", name="proxy.log")).to_be_visible()
    hugo.get_by_role("row").filter(has_text="proxy.log").get_by_role("link", name="Custody").click()
    expect(hugo.get_by_role("heading", name="Chain of custody")).to_be_visible()
    shot(hugo, "09-custody")
    hugo.go_back()

    # --- a manager flags it as a personal-data breach on the Manage tab: the GDPR clocks start -----
    maria = pages.open_as("maria", PASSWORD)
    maria.goto(f"/incidents/{incident.pk}/")
    maria.get_by_test_id("tab-manage").click()
    maria.get_by_label("Personal-data breach").check()
    maria.get_by_label("Root cause").fill("Look-alike domain not on the mail filter's block list")
    shot(maria, "15-incident-manage")
    maria.get_by_role("button", name="Save changes").click()
    expect(maria.get_by_text("Incident updated.")).to_be_visible()
    expect(maria.locator(".tag--pdb")).to_be_visible()
    maria.get_by_role("link", name="Overview").click()
    expect(maria.locator(".incident-head__clocks .countdown").first).to_be_visible()
    shot(maria, "08-incident-workspace")
    obligation = maria.locator(".obligation").filter(has_text="GDPR").first
    obligation.get_by_text("Record submission").first.click()
    obligation.get_by_label("Sent to").fill("CNIL")
    obligation.get_by_label("Their reference").fill("CNIL-2026-0042")
    obligation.get_by_label("I confirm this notice was sent", exact=False).check()
    obligation.get_by_role("button", name="Record submission").click()
    expect(maria.get_by_text("Submission recorded.")).to_be_visible()
    expect(maria.get_by_text("(CNIL-2026-0042)")).to_be_visible()

    # --- the review tab: the manager starts the review and decides an action --------------------
    maria.get_by_test_id("tab-review").click()
    maria.get_by_label("Root cause").fill("The look-alike domain was not on the block list.")
    maria.get_by_label("Lessons learned").fill(
        "Block look-alike domains of payroll providers; train payroll staff."
    )
    maria.get_by_role("button", name="Start the review").click()
    expect(maria.get_by_text("Review started.")).to_be_visible()
    maria.get_by_role("textbox", name="Action", exact=False).first.fill(
        "Add payroll look-alike domains to the block list"
    )
    maria.get_by_label("Owner").select_option(label="Hugo (hugo)")
    maria.get_by_role("button", name="Add action").click()
    expect(maria.get_by_text("Action added.")).to_be_visible()
    shot(maria, "16-review-tab")

    # --- the executive sees it on the dashboard; the admin index shows the key figures ----------
    erik = pages.open_as("erik", PASSWORD)
    erik.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(erik.get_by_test_id("open-by-severity")).to_contain_text("Finance")
    expect(erik.get_by_test_id("kpi-open").locator(".stat__value")).to_have_text("1")
    shot(erik, "14-dashboard")
    erik.get_by_role("link", name="ISO 27001 evidence report").first.click()
    expect(erik.get_by_role("heading", name=re.compile("evidence report"))).to_be_visible()
    shot(erik, "18-iso27001-report")
    erik.goto("/admin/")
    expect(erik.get_by_test_id("admin-figures")).to_contain_text("open incidents")
    shot(erik, "17-admin-index")

    # --- the notification centre (hugo was assigned the corrective action's incident events) ----
    from apps.notifications.models import Notification

    hugo_user = Incident.unscoped.get(pk=incident.pk).tenant  # the tenant of the notifications
    for kind, subject, critical in [
        ("incident.transitioned", f"{incident.reference} moved to Contained", False),
        ("obligation.due_soon", f"{incident.reference}: GDPR notification due in 3 days", False),
        ("incident.assigned", f"Corrective action on {incident.reference} assigned to you", False),
    ]:
        Notification.unscoped.create(
            tenant=hugo_user,
            user=people["hugo"],
            kind=kind,
            subject=subject,
            incident=incident,
            critical=critical,
            body="Open the incident to see the details.",
        )
    hugo.goto("/notifications/")
    expect(hugo.get_by_test_id("inbox")).to_be_visible()
    expect(hugo.get_by_role("heading", name=re.compile("Notifications"))).to_be_visible()
    shot(hugo, "19-notification-centre")
    hugo.goto(f"/incidents/{incident.pk}/")

    hugo.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents").click()
    expect(hugo.get_by_role("link", name=incident.reference)).to_be_visible()
    shot(hugo, "10-incident-list")

    # --- another tenant's member cannot reach any of it -----------------------------------------
    otto = pages.open_as("otto", PASSWORD)
    report = Report.unscoped.get(incident=incident)
    evidence = Evidence.unscoped.filter(incident=incident).first()
    every_page = [
        f"/incidents/{incident.pk}/",
        f"/incidents/{incident.pk}/manage/",
        f"/incidents/{incident.pk}/review/",
        f"/queue/{report.pk}/",
        f"/reports/{report.pk}/filed/",
        f"/incidents/{incident.pk}/evidence/{evidence.pk}/custody/",
    ]
    for path in every_page:
        pages.expect_404(f"{pages.base_url}{path}")
        response = otto.goto(path)
        assert response.status == 404, path
    expect(otto.get_by_role("heading", name="Not found")).to_be_visible()
    shot(otto, "11-not-found-other-tenant")


def test_pages_on_a_phone(pages, people, shot):
    rita = pages.open_as("rita", PASSWORD, viewport={"width": 390, "height": 844})
    shot(rita, "12-phone-home")
    rita.get_by_role("link", name="Report something").click()
    shot(rita, "13-phone-report-form")
    # Keyboard: the skip link is the first stop and moves focus to the content.
    rita.keyboard.press("Tab")
    expect(rita.get_by_role("link", name="Skip to content")).to_be_focused()


def test_sign_in_page_and_lockout(browser, live_server, people, shot):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto("/sign-in/")
    shot(page, "00-sign-in")
    for _ in range(5):
        page.get_by_label("Username").fill("rita")
        page.get_by_label("Password").fill("not-her-password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Too many failed sign-ins")).to_be_visible()
    shot(page, "00-sign-in-locked")
    context.close()
