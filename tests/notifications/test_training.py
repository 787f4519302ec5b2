"""Training (ISO 27001 A.6.3): courses, automatic assignment of mandatory ones to new members, completion
and recurrence, reminders before due and the escalation to tenant admins, once per point."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.notifications import reminder_tasks, training
from apps.notifications.models import Course, Notification, TrainingAssignment
from apps.tenancy.roles import RoleId
from tests.factories import TenantFactory, UserFactory
from tests.system_jobs import system_job


@pytest.fixture
def admin(make_member, tenant):
    return make_member(RoleId.TENANT_ADMIN, tenant)


@pytest.fixture
def course(api_client_for, admin, tenant):
    response = api_client_for(admin).post(
        "/api/v1/training/courses/",
        {
            "tenant": str(tenant.id),
            "name": "Incident reporting awareness",
            "mandatory": True,
            "due_within_days": 30,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Course.unscoped.get(pk=response.json()["id"])


def _add_member(api_client_for, admin, tenant, role=RoleId.REPORTER):
    """Through the API (membership.created is published), by a platform admin: a tenant admin sees only
    people already known to the tenant."""
    user = UserFactory()
    response = api_client_for(UserFactory(is_superuser=True)).post(
        "/api/v1/memberships/",
        {"user": str(user.pk), "tenant": str(tenant.pk), "role": role},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return user


def remind(assignment, now=None):
    if now is None:
        return reminder_tasks.training_remind.apply(
            kwargs={"tenant_id": str(assignment.tenant_id), "pk": str(assignment.pk)}
        ).get()
    return training.training_remind(assignment_id=assignment.pk, now=now)


def test_courses_are_written_by_tenant_admins_and_read_by_members(
    course, api_client_for, make_member, tenant
):
    reporter = make_member(RoleId.REPORTER, tenant)
    client = api_client_for(reporter)
    listing = client.get("/api/v1/training/courses/")
    assert [row["name"] for row in listing.json()["results"]] == ["Incident reporting awareness"]
    refused = client.post(
        "/api/v1/training/courses/", {"tenant": str(tenant.id), "name": "Mine"}, format="json"
    )
    assert refused.status_code == 403
    assert (
        client.patch(f"/api/v1/training/courses/{course.pk}/", {"name": "x"}, format="json").status_code
        == 403
    )


def test_a_new_member_gets_the_mandatory_courses(course, api_client_for, admin, tenant):
    optional = Course.unscoped.create(tenant=tenant, name="Forensics 101", mandatory=False)
    parent_course = Course.unscoped.create(
        tenant=TenantFactory(), name="Elsewhere", mandatory=True
    )  # another tenant's: not assigned

    user = _add_member(api_client_for, admin, tenant)

    assignments = TrainingAssignment.unscoped.filter(user=user)
    assert [a.course_id for a in assignments] == [course.pk]
    assignment = assignments.get()
    assert abs(assignment.due_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert assignment.next_reminder_at == assignment.due_at - timedelta(days=14)
    assert optional.pk not in {a.course_id for a in assignments}
    assert parent_course.pk not in {a.course_id for a in assignments}
    assert Notification.unscoped.filter(user=user, kind="training.assigned").count() == 1
    assert AuditEntry.unscoped.filter(verb="training.assigned", target_id=str(assignment.pk)).exists()


def test_a_mandatory_course_of_a_parent_tenant_covers_its_departments(api_client_for, superuser):
    group = TenantFactory()
    department = TenantFactory(parent=group)
    group_course = Course.unscoped.create(tenant=group, name="Group awareness", mandatory=True)
    user = UserFactory()
    response = api_client_for(superuser).post(
        "/api/v1/memberships/",
        {"user": str(user.pk), "tenant": str(department.pk), "role": RoleId.HANDLER},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert TrainingAssignment.unscoped.filter(user=user, course=group_course).exists()


def test_creating_a_mandatory_course_assigns_it_to_the_current_members(course, admin, tenant):
    assert TrainingAssignment.unscoped.filter(course=course, user=admin).exists()


def test_who_sees_which_assignments(course, api_client_for, admin, make_member, tenant):
    one = make_member(RoleId.REPORTER, tenant)
    other = make_member(RoleId.HANDLER, tenant)
    manager = make_member(RoleId.MANAGER, tenant)
    # make_member writes memberships directly (no event): assign by hand for these.
    for user in (one, other):
        response = api_client_for(admin).post(
            "/api/v1/training/assignments/", {"course": str(course.pk), "user": str(user.pk)}, format="json"
        )
        assert response.status_code == 201, response.json()

    def users(client):
        response = client.get("/api/v1/training/assignments/")
        assert response.status_code == 200, response.json()
        return {row["user"] for row in response.json()["results"]}

    assert users(api_client_for(one)) == {str(one.pk)}
    assert users(api_client_for(admin)) == {str(admin.pk), str(one.pk), str(other.pk)}
    assert users(api_client_for(manager)) == {str(admin.pk), str(one.pk), str(other.pk)}
    outsider_admin = make_member(RoleId.TENANT_ADMIN, TenantFactory())
    assert users(api_client_for(outsider_admin)) == set()

    theirs = TrainingAssignment.unscoped.get(user=other)
    assert api_client_for(one).post(f"/api/v1/training/assignments/{theirs.pk}/complete/").status_code == 404
    assert (
        api_client_for(manager).post(f"/api/v1/training/assignments/{theirs.pk}/complete/").status_code == 403
    )


def test_completion_opens_the_next_yearly_assignment(course, api_client_for, admin, tenant):
    user = _add_member(api_client_for, admin, tenant)
    assignment = TrainingAssignment.unscoped.get(user=user)
    client = api_client_for(user)

    response = client.post(f"/api/v1/training/assignments/{assignment.pk}/complete/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["completed_at"] is not None
    again = client.post(f"/api/v1/training/assignments/{assignment.pk}/complete/", {}, format="json")
    assert again.status_code == 409

    assignment.refresh_from_db()
    assert assignment.completed_by_id == user.pk
    assert assignment.next_reminder_at is None
    following = TrainingAssignment.unscoped.get(user=user, completed_at__isnull=True)
    assert following.course_id == course.pk
    months = (following.due_at - assignment.completed_at).days
    assert 364 <= months <= 366, "a year after the completion"
    assert AuditEntry.unscoped.filter(verb="training.completed", target_id=str(assignment.pk)).exists()


def test_a_one_off_course_does_not_recur(tenant, admin, api_client_for):
    course = Course.unscoped.create(tenant=tenant, name="Onboarding", recurrence_months=0)
    response = api_client_for(admin).post(
        "/api/v1/training/assignments/", {"course": str(course.pk), "user": str(admin.pk)}, format="json"
    )
    assert response.status_code == 201, response.json()
    assignment_id = response.json()["id"]
    assert (
        api_client_for(admin).post(f"/api/v1/training/assignments/{assignment_id}/complete/").status_code
        == 200
    )
    assert not TrainingAssignment.unscoped.filter(course=course, completed_at__isnull=True).exists()


def test_reminders_before_due_and_the_escalation_go_out_once_per_point(
    course, api_client_for, admin, make_member, tenant
):
    second_admin = make_member(RoleId.TENANT_ADMIN, tenant)
    user = _add_member(api_client_for, admin, tenant)
    assignment = TrainingAssignment.unscoped.get(user=user)
    due = assignment.due_at

    assert remind(assignment, now=due - timedelta(days=20)) is None  # nothing due yet
    assert remind(assignment, now=due - timedelta(days=13)) == "14d"
    assert remind(assignment, now=due - timedelta(days=13)) is None, "once"
    assert remind(assignment, now=due - timedelta(days=2)) == "3d"
    assert remind(assignment, now=due + timedelta(hours=1)) == "overdue"
    assert remind(assignment, now=due + timedelta(days=3)) is None

    def told(point):
        return sorted(
            Notification.unscoped.filter(dedupe_key=f"training:{assignment.pk}:{point}").values_list(
                "user_id", flat=True
            )
        )

    assert told("14d") == [user.pk]
    assert told("3d") == [user.pk]
    assert told("overdue") == sorted([user.pk, admin.pk, second_admin.pk])
    assignment.refresh_from_db()
    assert (assignment.last_reminder_point, assignment.next_reminder_at) == ("overdue", None)


@system_job
def test_the_training_scan_fans_out_due_assignments_once(
    course, api_client_for, admin, tenant, monkeypatch, django_capture_on_commit_callbacks
):
    user = _add_member(api_client_for, admin, tenant)
    assignment = TrainingAssignment.unscoped.get(user=user)
    TrainingAssignment.unscoped.filter(pk=assignment.pk).update(
        due_at=timezone.now() - timedelta(days=1), next_reminder_at=timezone.now() - timedelta(days=15)
    )
    queued = []
    monkeypatch.setattr(
        reminder_tasks.training_remind, "apply_async", lambda kwargs, **options: queued.append(kwargs)
    )
    for _ in range(2):  # beat firing twice
        with django_capture_on_commit_callbacks(execute=True):
            reminder_tasks.training_reminders_scan()
    assert queued == [{"tenant_id": str(tenant.pk), "pk": str(assignment.pk)}]
    for kwargs in queued * 2:  # and the message delivered twice
        reminder_tasks.training_remind.apply(kwargs=kwargs).get()
    overdue = Notification.unscoped.filter(dedupe_key=f"training:{assignment.pk}:overdue")
    assert sorted(overdue.values_list("user_id", flat=True)) == sorted([user.pk, admin.pk])
    assert not Notification.unscoped.filter(dedupe_key=f"training:{assignment.pk}:14d").exists(), "stale"
