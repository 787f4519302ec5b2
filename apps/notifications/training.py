"""Training (ISO/IEC 27001:2022 A.6.3 awareness, education and training): courses, assignments, reminders.

- Tenant admins keep the tenant's courses; a mandatory course is assigned to every member, new ones
  included (`membership.created`), due `due_within_days` after assignment.
- Completing an assignment (its person, or a tenant admin) records who and when; a recurring course then
  opens the next assignment, due `recurrence_months` after the completion.
- Reminders go out before due (14 and 3 days by default, `Tenant.settings["training_reminder_points"]`)
  and, once overdue, an escalation to the person and the tenant admins: once per (assignment, point),
  found by one indexed query (`next_reminder_at`, as for obligations) and deduplicated by notify().

Who sees assignments: the tenant admins, managers and auditors see the tenant's; everyone sees their own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.errors import Conflict
from apps.core.events import DomainEvent, diff, publish, snapshot
from apps.core.validation import validate
from apps.notifications import deadlines
from apps.notifications.choices import NotificationKind
from apps.notifications.messaging import emits, notify
from apps.notifications.models import Course, TrainingAssignment
from apps.notifications.reminders import OVERDUE, Point, parse_points
from apps.notifications.wording import tenant_time, training_link
from apps.tenancy.access import Access
from apps.tenancy.context import SYSTEM_DATABASE, current_context
from apps.tenancy.models import Membership, Tenant
from apps.tenancy.roles import RoleId, Scope

COURSE_FIELDS = ["name", "description", "mandatory", "recurrence_months", "due_within_days"]
ASSIGNMENT_FIELDS = ["course_id", "user_id", "due_at", "completed_at", "completed_by_id"]
DEFAULT_POINTS = ("14d", "3d")
SETTINGS_KEY = "training_reminder_points"
# Scopes that let a role see every assignment of a tenant (admins, managers, auditors).
OVERSIGHT_SCOPES = (Scope.TENANT_ADMIN, Scope.INCIDENT_MANAGE, Scope.AUDIT_READ)
SCAN_LEASE = timedelta(minutes=5)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


# --------------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------------


def course_list(*, access: Access) -> QuerySet[Course]:
    readable = current_context().tenant_ids & access.tenants_with(Scope.TENANT_READ)
    return Course.objects.filter(tenant_id__in=readable)


def _overseen(access: Access) -> frozenset:
    tenant_ids = current_context().tenant_ids
    return frozenset().union(*(tenant_ids & access.tenants_with(scope) for scope in OVERSIGHT_SCOPES))


def assignment_list(*, access: Access) -> QuerySet[TrainingAssignment]:
    """The tenant's assignments for admins, managers and auditors; one's own for everybody."""
    tenant_ids = current_context().tenant_ids
    visible = Q(tenant_id__in=_overseen(access)) | Q(tenant_id__in=tenant_ids, user_id=access.user_id)
    return TrainingAssignment.objects.filter(visible).select_related("course", "user")


# --------------------------------------------------------------------------------------------------
# Courses
# --------------------------------------------------------------------------------------------------


def _zone(tenant: Tenant) -> ZoneInfo:
    return ZoneInfo(tenant.time_zone or "UTC")


def _member_ids(tenant: Tenant) -> list:
    return list(
        Membership.unscoped.filter(tenant=tenant, user__is_active=True).values_list("user_id", flat=True)
    )


@transaction.atomic
def course_create(*, actor, access: Access, tenant: Tenant, **fields) -> Course:
    _require(access.has_scope(tenant.id, Scope.TENANT_ADMIN), "You do not administer this tenant's courses.")
    unknown = sorted(set(fields) - set(COURSE_FIELDS))
    if unknown:
        raise ValidationError({name: ["Unknown or read-only field."] for name in unknown})
    course = Course(tenant=tenant, **fields)
    validate(course)
    course.save(force_insert=True)
    publish(
        verb="course.created",
        actor=actor,
        target=course,
        tenant_id=tenant.id,
        changes=diff(course, {}, COURSE_FIELDS),
    )
    if course.mandatory:
        _assign(course, _member_ids(tenant), actor=actor)
    return course


@transaction.atomic
def course_update(*, actor, access: Access, course: Course, **fields) -> Course:
    _require(
        access.has_scope(course.tenant_id, Scope.TENANT_ADMIN), "You do not administer this tenant's courses."
    )
    unknown = sorted(set(fields) - set(COURSE_FIELDS))
    if unknown:
        raise ValidationError({name: ["Unknown or read-only field."] for name in unknown})
    course = Course.unscoped.select_for_update(of=("self",)).select_related("tenant").get(pk=course.pk)
    before = snapshot(course, COURSE_FIELDS)
    for name, value in fields.items():
        setattr(course, name, value)
    validate(course)
    course.save()
    changes = diff(course, before, COURSE_FIELDS)
    if changes:
        publish(
            verb="course.updated", actor=actor, target=course, tenant_id=course.tenant_id, changes=changes
        )
    if course.mandatory and not before["mandatory"]:
        _assign(course, _member_ids(course.tenant), actor=actor)
    return course


# --------------------------------------------------------------------------------------------------
# Assignments
# --------------------------------------------------------------------------------------------------


@emits(NotificationKind.TRAINING_ASSIGNED)
def _assign(course: Course, user_ids, *, actor, due_at: datetime | None = None) -> list[TrainingAssignment]:
    """Open an assignment of `course` for each user that has none open (the partial unique constraint
    decides under concurrency); publishes training.assigned for the ones created."""
    user_ids = list(dict.fromkeys(str(user_id) for user_id in user_ids))
    if not user_ids:
        return []
    now = timezone.now()
    due_at = due_at or now + timedelta(days=course.due_within_days)
    open_for = {
        str(user_id)
        for user_id in TrainingAssignment.unscoped.filter(
            course=course, user_id__in=user_ids, completed_at__isnull=True
        ).values_list("user_id", flat=True)
    }
    rows = [
        TrainingAssignment(tenant_id=course.tenant_id, course=course, user_id=user_id, due_at=due_at)
        for user_id in user_ids
        if user_id not in open_for
    ]
    settings = Tenant.objects.filter(pk=course.tenant_id).values_list("settings", flat=True).first()
    for row in rows:
        row.next_reminder_at = assignment_next_reminder_at(row, settings=settings)
    created = TrainingAssignment.unscoped.bulk_create(rows, ignore_conflicts=True)
    # With ignore_conflicts the ids are the ones generated here; a row lost to a concurrent insert is
    # simply not there (its event is not published).
    existing = set(
        TrainingAssignment.unscoped.filter(pk__in=[row.pk for row in created]).values_list("pk", flat=True)
    )
    users = {
        str(pk): user
        for pk, user in get_user_model().objects.in_bulk([row.user_id for row in created]).items()
    }
    for row in created:
        if row.pk in existing:
            due = tenant_time(row.due_at, course.tenant)
            notify(
                tenant_id=row.tenant_id,
                users=[users[str(row.user_id)]],
                kind="training.assigned",
                subject=f"Training assigned: {course.name}",
                body=f"The course {course.name} was assigned to you.",
                ask=f"Complete it by {due}.",
                facts=[("Course", course.name), ("Due", due)],
                link=training_link(row.pk),
                dedupe_key=f"training:{row.pk}:assigned",
            )
            publish(
                verb="training.assigned",
                actor=actor,
                target=row,
                tenant_id=row.tenant_id,
                changes=diff(row, {}, ASSIGNMENT_FIELDS),
                data={"course": course.name},
            )
    return [row for row in created if row.pk in existing]


@transaction.atomic
def assignment_create(
    *, actor, access: Access, course: Course, user, due_at: datetime | None = None
) -> TrainingAssignment:
    """A tenant admin assigns a course to one member (optional courses, or an earlier due date)."""
    _require(
        access.has_scope(course.tenant_id, Scope.TENANT_ADMIN),
        "You do not administer this tenant's training.",
    )
    tenant = Tenant.objects.get(pk=course.tenant_id)
    ancestors = [part for part in tenant.path.split("/") if part]
    if not Membership.unscoped.filter(user=user, tenant_id__in=ancestors).exists():
        raise ValidationError({"user": ["Not a member of the course's tenant."]})
    if due_at is not None and due_at <= timezone.now():
        raise ValidationError({"due_at": ["Must be in the future."]})
    created = _assign(course, [user.pk], actor=actor, due_at=due_at)
    if not created:
        raise Conflict("This person already has an open assignment of this course.")
    return created[0]


@transaction.atomic
def assignment_complete(
    *, actor, access: Access, assignment: TrainingAssignment, completed_at: datetime | None = None
) -> TrainingAssignment:
    """Record the completion (by the person, or a tenant admin); a recurring course opens the next
    assignment, due `recurrence_months` after this completion."""
    _require(
        assignment.user_id == access.user_id or access.has_scope(assignment.tenant_id, Scope.TENANT_ADMIN),
        "Only the person or a tenant admin records a completion.",
    )
    assignment = (
        TrainingAssignment.unscoped.select_for_update(of=("self",))
        .select_related("course__tenant")
        .get(pk=assignment.pk)
    )
    if assignment.completed_at is not None:
        raise Conflict("This assignment is already completed.")
    now = timezone.now()
    completed_at = completed_at or now
    if completed_at > now + timedelta(minutes=5):
        raise ValidationError({"completed_at": ["A completion cannot be in the future."]})
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.completed_at = completed_at
    assignment.completed_by = actor
    assignment.next_reminder_at = None
    assignment.save(update_fields=["completed_at", "completed_by", "next_reminder_at"])
    course = assignment.course
    publish(
        verb="training.completed",
        actor=actor,
        target=assignment,
        tenant_id=assignment.tenant_id,
        changes=diff(assignment, before, ASSIGNMENT_FIELDS),
        data={"course": course.name, "late": completed_at > assignment.due_at},
    )
    if course.recurrence_months:
        due = deadlines.add_calendar_months(completed_at, course.recurrence_months, _zone(course.tenant))
        _assign(course, [assignment.user_id], actor=None, due_at=due)
    return assignment


def assign_mandatory_courses(event: DomainEvent) -> None:
    """Subscribed to membership.created: the new member gets the mandatory courses of the tenant and of
    its ancestors (a group-wide course covers every department)."""
    user_id = (event.changes.get("user") or [None, None])[1]
    if user_id is None or event.tenant_id is None:
        return
    tenant = Tenant.objects.filter(pk=event.tenant_id).first()
    if tenant is None:
        return
    ancestors = [part for part in tenant.path.split("/") if part]
    for course in Course.unscoped.filter(tenant_id__in=ancestors, mandatory=True).order_by("name", "id"):
        _assign(course, [user_id], actor=None)


# --------------------------------------------------------------------------------------------------
# Reminders
# --------------------------------------------------------------------------------------------------


def training_points(settings: dict | None) -> tuple[str, ...]:
    try:
        raw = (settings or {}).get(SETTINGS_KEY)
        codes = parse_points(raw if raw is not None else DEFAULT_POINTS)
    except (ValidationError, TypeError):
        codes = DEFAULT_POINTS
    # Shares of a window make no sense without a clock start: times before due only.
    return tuple(code for code in codes if not code.endswith("%"))


def training_schedule(assignment: TrainingAssignment, *, points) -> list[Point]:
    from apps.notifications.reminders import schedule

    return schedule(clock_started_at=None, due_at=assignment.due_at, points=points)


def _done(points: list[Point], last: str) -> set[str]:
    codes = [point.code for point in points]
    return set(codes[: codes.index(last) + 1]) if last in codes else set()


def assignment_next_reminder_at(assignment: TrainingAssignment, *, settings=None) -> datetime | None:
    if assignment.completed_at is not None:
        return None
    points = training_schedule(assignment, points=training_points(settings))
    done = _done(points, assignment.last_reminder_point)
    upcoming = next((point for point in points if point.code not in done), None)
    return upcoming.at if upcoming else None


def training_reminders_due_queryset(*, now: datetime):
    """The training scanner's query, on the partial index notif_assignment_reminder_due."""
    return (
        TrainingAssignment.unscoped.filter(completed_at__isnull=True, next_reminder_at__lte=now)
        .order_by("next_reminder_at")
        .values_list("pk", "tenant_id")
    )


@transaction.atomic(using=SYSTEM_DATABASE)
def training_reminders_claim(*, batch_size: int, now: datetime | None = None) -> list[tuple]:
    now = now or timezone.now()
    claimed = list(
        training_reminders_due_queryset(now=now)
        .using(SYSTEM_DATABASE)
        .select_for_update(skip_locked=True, no_key=True)[:batch_size]
    )
    if claimed:
        TrainingAssignment.unscoped.using(SYSTEM_DATABASE).filter(pk__in=[pk for pk, _ in claimed]).update(
            next_reminder_at=now + SCAN_LEASE
        )
    return claimed


def _tenant_admins(tenant: Tenant):
    ancestors = [part for part in tenant.path.split("/") if part]
    return list(
        get_user_model()
        .objects.filter(
            is_active=True,
            pk__in=Membership.unscoped.filter(tenant_id__in=ancestors, role=RoleId.TENANT_ADMIN).values(
                "user_id"
            ),
        )
        .order_by("pk")
    )


@emits(NotificationKind.TRAINING_DUE_SOON, NotificationKind.TRAINING_OVERDUE)
@transaction.atomic
def training_remind(*, assignment_id, now: datetime | None = None) -> str | None:
    """Tell the latest due point of one open assignment (before due: the person; overdue: the person and
    the tenant admins) and move on. Returns the point told, if any. Idempotent like obligation_remind."""
    now = now or timezone.now()
    assignment = (
        TrainingAssignment.unscoped.select_for_update(no_key=True, of=("self",))
        .select_related("course__tenant", "user")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or assignment.completed_at is not None:
        return None
    tenant = assignment.course.tenant
    points = training_schedule(assignment, points=training_points(tenant.settings))
    done = _done(points, assignment.last_reminder_point)
    due = [point for point in points if point.code not in done and point.at <= now]
    told = None
    if due:
        current = due[-1]
        overdue = current.code == OVERDUE
        course = assignment.course
        when = tenant_time(assignment.due_at, tenant)
        person = assignment.user.get_username()
        users = [assignment.user] if assignment.user.is_active else []
        if overdue:
            users += [admin for admin in _tenant_admins(tenant) if admin.pk != assignment.user_id]
        notify(
            tenant_id=assignment.tenant_id,
            users=users,
            kind="training.overdue" if overdue else "training.due_soon",
            subject=(
                f"Training overdue: {course.name} ({person})"
                if overdue
                else f"Training due {when}: {course.name}"
            ),
            body=f"{course.name} of {person} is due at {when}.",
            ask=f"Complete it now ({person}); tenant administrators: follow up."
            if overdue
            else f"Complete it by {when}.",
            facts=[("Course", course.name), ("Person", person), ("Due", when)],
            link=training_link(assignment.pk),
            dedupe_key=f"training:{assignment.pk}:{current.code}",
        )
        publish(
            verb="training.overdue" if overdue else "training.due_soon",
            actor=None,
            target=assignment,
            tenant_id=assignment.tenant_id,
            data={"point": current.code, "course": course.name, "user": str(assignment.user_id)},
        )
        assignment.last_reminder_point = current.code
        done = _done(points, current.code)
        told = current.code
    upcoming = next((point for point in points if point.code not in done), None)
    assignment.next_reminder_at = upcoming.at if upcoming else None
    assignment.save(update_fields=["last_reminder_point", "next_reminder_at"])
    return told
