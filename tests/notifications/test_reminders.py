"""Reminders before each obligation's deadline and the overdue escalation (issue 5, Reminders and
escalation): the points, next_reminder_at kept in step with due_at, each point sent once per recipient
however often the scanner or the task runs, the escalation critical and reaching the executives, and the
scanner's one indexed query."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.notifications import reminder_tasks, reminders
from apps.notifications.models import Notification, Obligation, ReminderSent
from apps.response.models import Incident, TimelineEntry
from apps.tenancy.roles import RoleId
from tests.system_jobs import system_job

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def gdpr_tenant(tenant):
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])
    return tenant


@pytest.fixture
def breach(gdpr_tenant, declare, patch_incident, manager):
    """An incident under GDPR whose clock started `ago` before now; returns its GDPR-2 obligation."""

    def make(ago: timedelta, **overrides) -> Obligation:
        incident = declare(**overrides)
        Incident.unscoped.filter(pk=incident["id"]).update(owner=manager)
        patch_incident(incident["id"], personal_data_breach=True, aware_at=(timezone.now() - ago).isoformat())
        return Obligation.unscoped.get(incident_id=incident["id"], step__code="GDPR-2")

    return make


def run_scan(monkeypatch, django_capture_on_commit_callbacks, *, now=None) -> list[dict]:
    """Run the beat scanner; its fan-out is captured, then each task runs here (as a worker would)."""
    queued = []
    monkeypatch.setattr(
        reminder_tasks.obligation_remind, "apply_async", lambda kwargs, **options: queued.append(kwargs)
    )
    if now is not None:
        monkeypatch.setattr(reminders.timezone, "now", lambda: now)
    with django_capture_on_commit_callbacks(execute=True):
        reminder_tasks.obligation_reminders_scan()
    for kwargs in queued:
        reminder_tasks.obligation_remind.apply(kwargs=kwargs).get()
    return queued


def told(obligation: Obligation, point: str) -> list[Notification]:
    return list(Notification.unscoped.filter(dedupe_key=f"obligation:{obligation.pk}:{point}"))


# --------------------------------------------------------------------------------------------------
# The points
# --------------------------------------------------------------------------------------------------


def test_default_points_split_the_window_and_end_with_the_escalation():
    points = reminders.schedule(
        clock_started_at=T0, due_at=T0 + timedelta(hours=72), points=reminders.DEFAULT_POINTS
    )
    assert [(p.code, p.at - T0) for p in points] == [
        ("50%", timedelta(hours=36)),
        ("75%", timedelta(hours=54)),
        ("90%", timedelta(hours=64, minutes=48)),
        ("1h", timedelta(hours=71)),
        ("overdue", timedelta(hours=72)),
    ]


def test_points_before_the_clock_start_are_left_out_and_ties_keep_their_order():
    four_hours = reminders.schedule(
        clock_started_at=T0, due_at=T0 + timedelta(hours=4), points=reminders.DEFAULT_POINTS
    )
    assert [(p.code, p.at - T0) for p in four_hours] == [
        ("50%", timedelta(hours=2)),
        ("75%", timedelta(hours=3)),
        ("1h", timedelta(hours=3)),
        ("90%", timedelta(hours=3, minutes=36)),
        ("overdue", timedelta(hours=4)),
    ]
    half_hour = reminders.schedule(
        clock_started_at=T0, due_at=T0 + timedelta(minutes=30), points=["1h", "2d"]
    )
    assert [p.code for p in half_hour] == ["overdue"]
    # Without a clock start only the times before due apply.
    no_start = reminders.schedule(clock_started_at=None, due_at=T0, points=reminders.DEFAULT_POINTS)
    assert [p.code for p in no_start] == ["1h", "overdue"]
    assert reminders.schedule(clock_started_at=T0, due_at=None, points=reminders.DEFAULT_POINTS) == []


def test_tenant_points_are_validated_and_a_broken_setting_falls_back_to_the_defaults():
    assert reminders.parse_points(["25%", "2d", "30m", "25%"]) == ("25%", "2d", "30m")
    for bad in (["100%"], ["0%"], ["soon"], ["1w"]):
        with pytest.raises(Exception, match="use a share"):
            reminders.parse_points(bad)
    assert reminders.tenant_points({"reminder_points": ["bogus"]}) == reminders.DEFAULT_POINTS
    assert reminders.tenant_points({"reminder_points": ["80%"]}) == ("80%",)
    assert reminders.tenant_points({}) == reminders.DEFAULT_POINTS


def test_a_new_obligation_stores_its_next_reminder_and_a_corrected_anchor_moves_it(breach, patch_incident):
    obligation = breach(timedelta(hours=1))
    start, due = obligation.clock_started_at, obligation.due_at
    assert due - start == timedelta(hours=72)
    assert obligation.next_reminder_at == start + timedelta(hours=36)  # the 50% point

    # aware_at corrected to two days earlier: the 50% point has passed, it is due now (a catch-up).
    earlier = start - timedelta(days=2)
    patch_incident(obligation.incident_id, aware_at=earlier.isoformat())
    obligation.refresh_from_db()
    assert obligation.due_at == earlier + timedelta(hours=72)
    assert obligation.next_reminder_at == earlier + timedelta(hours=36)
    assert TimelineEntry.unscoped.filter(incident_id=obligation.incident_id, verb="obligation.rescheduled")


def test_the_tenants_own_points_apply(gdpr_tenant, breach):
    gdpr_tenant.settings = {**gdpr_tenant.settings, "reminder_points": ["2h"]}
    gdpr_tenant.save(update_fields=["settings"])
    obligation = breach(timedelta(hours=1))
    assert obligation.next_reminder_at == obligation.due_at - timedelta(hours=2)


# --------------------------------------------------------------------------------------------------
# Sending: once per (obligation, point, recipient)
# --------------------------------------------------------------------------------------------------


@system_job
def test_the_scan_sends_each_point_once_even_when_run_twice(
    breach, manager, make_member, gdpr_tenant, monkeypatch, django_capture_on_commit_callbacks
):
    second_manager = make_member(RoleId.MANAGER, gdpr_tenant)
    make_member(RoleId.EXECUTIVE, gdpr_tenant)  # not told before the deadline
    make_member(RoleId.HANDLER, gdpr_tenant)
    obligation = breach(timedelta(hours=40))  # 50% passed (36 h), 75% not yet (54 h)

    # GDPR-2 (72 h, 50% point passed) and GDPR-4 (the 24 h internal SLA, already overdue).
    fanned_out = run_scan(monkeypatch, django_capture_on_commit_callbacks)
    assert {kwargs["pk"] for kwargs in fanned_out} == set(
        map(str, Obligation.unscoped.filter(incident_id=obligation.incident_id).values_list("pk", flat=True))
    )
    assert run_scan(monkeypatch, django_capture_on_commit_callbacks) == [], "claimed: not fanned out again"

    notes = told(obligation, "50%")
    # The owner (a manager here) and the other manager, each once.
    assert sorted(n.user_id for n in notes) == sorted([manager.pk, second_manager.pk])
    assert {(n.kind, n.critical, n.incident_id) for n in notes} == {
        ("obligation.due_soon", False, obligation.incident_id)
    }
    sent = ReminderSent.unscoped.get(obligation=obligation)
    assert (sent.point, sent.skipped) == ("50%", False)
    obligation.refresh_from_db()
    assert obligation.next_reminder_at == obligation.clock_started_at + timedelta(hours=54)
    assert (
        TimelineEntry.unscoped.filter(
            incident_id=obligation.incident_id, verb="obligation.due_soon", data__point="50%"
        ).count()
        == 1
    )
    assert AuditEntry.unscoped.filter(verb="obligation.due_soon", target_id=str(obligation.pk)).count() == 1

    # The same task delivered again (a retry, a duplicate message) and a scan after the claim expired:
    # nobody is told twice.
    reminder_tasks.obligation_remind.apply(
        kwargs={"tenant_id": str(obligation.tenant_id), "pk": str(obligation.pk)}
    ).get()
    Obligation.unscoped.filter(pk=obligation.pk).update(
        next_reminder_at=timezone.now() - timedelta(minutes=1)
    )
    run_scan(monkeypatch, django_capture_on_commit_callbacks)
    assert len(told(obligation, "50%")) == 2
    assert ReminderSent.unscoped.filter(obligation=obligation).count() == 1


def test_the_dedupe_key_holds_even_if_the_point_record_were_lost(breach, manager):
    """Belt and braces: notify()'s unique (user, dedupe_key) refuses a second message by itself."""
    obligation = breach(timedelta(hours=40))
    tenant_id = str(obligation.tenant_id)
    reminder_tasks.obligation_remind.apply(kwargs={"tenant_id": tenant_id, "pk": str(obligation.pk)}).get()
    ReminderSent.unscoped.filter(obligation=obligation).delete()
    reminder_tasks.obligation_remind.apply(kwargs={"tenant_id": tenant_id, "pk": str(obligation.pk)}).get()
    assert [n.user_id for n in told(obligation, "50%")] == [manager.pk]


@system_job
def test_overdue_escalation_is_critical_and_reaches_the_executives(
    breach, manager, make_member, gdpr_tenant, monkeypatch, django_capture_on_commit_callbacks
):
    executive = make_member(RoleId.EXECUTIVE, gdpr_tenant)
    auditor = make_member(RoleId.AUDITOR, gdpr_tenant)
    obligation = breach(timedelta(hours=73))  # past due: every earlier point is stale

    run_scan(monkeypatch, django_capture_on_commit_callbacks)

    notes = told(obligation, "overdue")
    assert {n.user_id for n in notes} == {manager.pk, executive.pk}
    assert auditor.pk not in {n.user_id for n in notes}
    assert all(n.critical and n.kind == "obligation.overdue" for n in notes)
    for point in ("50%", "75%", "90%", "1h"):
        assert told(obligation, point) == [], f"no burst of stale reminders ({point})"
    records = dict(ReminderSent.unscoped.filter(obligation=obligation).values_list("point", "skipped"))
    assert records == {"50%": True, "75%": True, "90%": True, "1h": True, "overdue": False}
    obligation.refresh_from_db()
    assert obligation.next_reminder_at is None, "nothing left to send"
    assert TimelineEntry.unscoped.filter(
        incident_id=obligation.incident_id, verb="obligation.overdue"
    ).exists()


def test_a_silenced_kind_still_escalates_when_critical(breach, manager):
    from apps.notifications.models import NotificationPreference

    NotificationPreference.objects.create(user=manager, kind="obligation.overdue", in_app=False, email=False)
    NotificationPreference.objects.create(user=manager, kind="obligation.due_soon", in_app=False, email=False)
    obligation = breach(timedelta(hours=80))
    reminder_tasks.obligation_remind.apply(
        kwargs={"tenant_id": str(obligation.tenant_id), "pk": str(obligation.pk)}
    ).get()
    assert [n.user_id for n in told(obligation, "overdue")] == [manager.pk]


@system_job
def test_a_submitted_obligation_is_not_reminded(breach, monkeypatch, django_capture_on_commit_callbacks):
    obligation = breach(timedelta(hours=40))
    Obligation.unscoped.filter(pk=obligation.pk).update(status="waived", waived_rationale="No risk")
    fanned_out = run_scan(monkeypatch, django_capture_on_commit_callbacks)
    assert str(obligation.pk) not in {kwargs["pk"] for kwargs in fanned_out}
    reminder_tasks.obligation_remind.apply(
        kwargs={"tenant_id": str(obligation.tenant_id), "pk": str(obligation.pk)}
    ).get()
    assert Notification.unscoped.filter(dedupe_key__startswith=f"obligation:{obligation.pk}:").count() == 0


def test_points_already_sent_stay_sent_when_the_deadline_moves(breach, patch_incident, manager):
    obligation = breach(timedelta(hours=40))
    reminder_tasks.obligation_remind.apply(
        kwargs={"tenant_id": str(obligation.tenant_id), "pk": str(obligation.pk)}
    ).get()
    # aware_at corrected to later: the 50% point moves into the future but was sent already.
    later = obligation.clock_started_at + timedelta(hours=10)
    patch_incident(obligation.incident_id, aware_at=later.isoformat())
    obligation.refresh_from_db()
    assert obligation.next_reminder_at == later + timedelta(hours=54)  # 75%, not 50% again


# --------------------------------------------------------------------------------------------------
# The scanner's query
# --------------------------------------------------------------------------------------------------


def _plan(queryset) -> str:
    return queryset.explain()


def test_the_scanner_query_uses_the_partial_index(breach):
    """Honest note: on a test database of a few rows PostgreSQL rightly prefers a sequential scan, so
    the first check forbids it (`SET enable_seqscan = off`) to show the index *can* serve the query; the
    second fills the table with 20 000 pending obligations, a few of them due, and shows the planner
    picks the index of its own accord."""
    obligation = breach(timedelta(hours=40))
    query = reminders.obligation_reminders_due_queryset(now=timezone.now()).select_for_update(
        skip_locked=True, no_key=True
    )[:200]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    forced = _plan(query)
    assert "notif_obligation_reminder_due" in forced, forced
    assert "Index Scan" in forced or "Bitmap Index Scan" in forced, forced
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = on")
        # 20 000 pending obligations whose reminders are months ahead, as in a busy platform.
        cursor.execute(
            """
            INSERT INTO notifications_obligation (
                id, tenant_id, incident_id, regime, step_id, notice, recipient, status, due_at,
                clock_started_at, next_reminder_at, submitted_to, reference, summary, waived_rationale,
                created_at, updated_at)
            SELECT gen_random_uuid(), tenant_id, incident_id, regime, step_id, 'bulk-' || n, '', 'pending',
                   now() + interval '90 days', now(), now() + interval '60 days', '', '', '', '', now(), now()
            FROM notifications_obligation, generate_series(1, 20000) AS n
            WHERE id = %s
            """,
            [obligation.pk],
        )
        cursor.execute("ANALYZE notifications_obligation")
    natural = _plan(query)
    assert "notif_obligation_reminder_due" in natural, natural
    print(f"\nEXPLAIN (seqscan off):\n{forced}\nEXPLAIN (20 000 rows):\n{natural}")  # noqa: T201
    due = {pk for pk, _ in reminders.obligation_reminders_due_queryset(now=timezone.now())}
    real = Obligation.unscoped.filter(incident_id=obligation.incident_id).exclude(notice__startswith="bulk-")
    assert due == set(real.values_list("pk", flat=True))
    assert len(due) == 2, "GDPR-2 (50% passed) and GDPR-4 (24 h SLA overdue); none of the 20 000"
