"""My training: a person sees the courses assigned to them (no one else's), records a completion with
the API's service, and training e-mails link here."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.notifications.models import Course, TrainingAssignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(tenant, make_member):
    course = Course.unscoped.create(tenant=tenant, name="Spotting phishing", description="Twenty minutes.")
    person, colleague = make_member("reporter", tenant), make_member("handler", tenant)
    due = timezone.now() + timedelta(days=3)
    mine = TrainingAssignment.unscoped.create(tenant=tenant, course=course, user=person, due_at=due)
    other = Course.unscoped.create(tenant=tenant, name="Incident response drill")
    theirs = TrainingAssignment.unscoped.create(tenant=tenant, course=other, user=colleague, due_at=due)
    return person, mine, theirs


def test_a_person_sees_their_own_assignments_only(assigned, verified_client_for):
    person, mine, _ = assigned
    page = verified_client_for(person).get("/training/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="assignment-{mine.pk}"' in html
    assert "Spotting phishing" in html
    assert "To do" in html
    assert "Incident response drill" not in html
    assert 'href="/training/"' in html  # in the navigation


def test_completing_records_it_once_and_shows_it(assigned, verified_client_for):
    person, mine, _ = assigned
    client = verified_client_for(person)
    done = client.post(f"/training/{mine.pk}/complete/")
    assert done.status_code == 302
    assert done["Location"] == f"/training/#assignment-{mine.pk}"
    mine.refresh_from_db()
    assert mine.completed_at is not None
    assert mine.completed_by == person
    page = client.get("/training/").content.decode()
    row = page.split(f'id="assignment-{mine.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Completed" in row
    assert "I completed it" not in row
    again = client.get(f"/training/{mine.pk}/complete/")
    assert again.status_code == 405


def test_another_persons_assignment_answers_404(assigned, verified_client_for):
    person, _, theirs = assigned
    assert verified_client_for(person).post(f"/training/{theirs.pk}/complete/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.completed_at is None


def test_completing_twice_says_it_is_already_completed(assigned, verified_client_for):
    person, mine, _ = assigned
    client = verified_client_for(person)
    client.post(f"/training/{mine.pk}/complete/")
    again = client.post(f"/training/{mine.pk}/complete/", follow=True)
    assert "already completed" in again.content.decode()
    assert TrainingAssignment.unscoped.filter(user=person, completed_at__isnull=False).count() == 1
