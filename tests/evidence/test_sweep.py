"""The integrity sweep: every item of every tenant, in batches, resumable, wrapping around."""

import os
import shutil
from pathlib import Path

import pytest

from apps.audit.models import AuditEntry
from apps.evidence.models import CustodyEvent, Evidence, IntegritySweep
from apps.evidence.services import SWEEP, evidence_integrity_sweep
from apps.evidence.tasks import evidence_integrity_sweep as sweep_task
from apps.response.models import TimelineEntry
from tests.evidence.test_custody import _stored_path, flip_a_byte
from tests.factories import IncidentFactory, TenantFactory, make_evidence
from tests.integration.conftest import celery_worker_process, wait_for  # noqa: F401 - the fixture
from tests.system_jobs import system_job

pytestmark = system_job


def _items(n, tenants):
    return sorted(
        (make_evidence(IncidentFactory(tenant=tenants[i % len(tenants)])) for i in range(n)),
        key=lambda e: e.pk,
    )


def test_the_sweep_detects_a_flipped_byte_and_a_missing_file_across_tenants(db):
    tenants = [TenantFactory(), TenantFactory()]
    items = _items(4, tenants)
    flip_a_byte(items[1])
    os.remove(_stored_path(items[2]))

    run = evidence_integrity_sweep(batch_size=3, max_items=100)

    assert (run.checked, run.failures, run.wrapped) == (4, 2, True)
    failed = AuditEntry.unscoped.filter(verb="evidence.integrity_failed")
    assert {entry.target_id for entry in failed} == {str(items[1].pk), str(items[2].pk)}
    assert {entry.tenant_id for entry in failed} == {items[1].tenant_id, items[2].tenant_id}
    assert {entry.channel for entry in failed} == {"task"}
    assert TimelineEntry.unscoped.filter(
        incident_id=items[1].incident_id, verb="evidence.integrity_failed"
    ).exists()
    oks = dict(Evidence.unscoped.values_list("pk", "last_verification_ok"))
    assert [oks[item.pk] for item in items] == [True, False, False, True]
    missing = CustodyEvent.unscoped.get(evidence=items[2], action="verified")
    assert (missing.actor, missing.data["missing"], missing.data["trigger"]) == (None, True, "sweep")


def test_the_sweep_alerts_once_per_failure_and_records_changes_only(db):
    item = make_evidence(IncidentFactory(tenant=TenantFactory()), content=b"keep me")
    evidence_integrity_sweep(batch_size=10, max_items=10)
    flip_a_byte(item)
    evidence_integrity_sweep(batch_size=10, max_items=10)
    evidence_integrity_sweep(batch_size=10, max_items=10)

    assert AuditEntry.unscoped.filter(verb="evidence.integrity_failed").count() == 1
    assert list(
        CustodyEvent.unscoped.filter(evidence=item, action="verified")
        .order_by("at")
        .values_list("data__ok", flat=True)
    ) == [True, False], "first check and the change to failed; an unchanged result adds nothing"


def test_the_sweep_resumes_where_it_stopped_and_wraps_around(db):
    items = _items(5, [TenantFactory()])

    first = evidence_integrity_sweep(batch_size=2, max_items=3)
    state = IntegritySweep.objects.get(name=SWEEP)
    assert (first.checked, first.wrapped, state.position) == (3, False, items[2].pk)
    checked = set(Evidence.unscoped.filter(last_verified_at__isnull=False).values_list("pk", flat=True))
    assert checked == {item.pk for item in items[:3]}

    second = evidence_integrity_sweep(batch_size=2, max_items=3)
    state.refresh_from_db()
    assert (second.checked, second.wrapped, state.position, state.passes_completed) == (2, True, None, 1)
    assert not Evidence.unscoped.filter(last_verified_at__isnull=True).exists()

    third = evidence_integrity_sweep(batch_size=2, max_items=1)
    state.refresh_from_db()
    assert (third.checked, state.position) == (1, items[0].pk), "a new pass starts from the first item"


def test_the_sweep_resumes_after_a_crash_mid_batch(db, monkeypatch):
    items = _items(4, [TenantFactory()])
    from apps.evidence import services

    original, calls = services._check, []

    def crash_on_third(evidence):
        calls.append(evidence.pk)
        if len(calls) == 3:
            raise RuntimeError("worker lost")
        return original(evidence)

    monkeypatch.setattr(services, "_check", crash_on_third)
    with pytest.raises(RuntimeError):
        evidence_integrity_sweep(batch_size=10, max_items=10)
    monkeypatch.setattr(services, "_check", original)

    assert IntegritySweep.objects.get(name=SWEEP).position == items[1].pk, "saved after each item"
    run = evidence_integrity_sweep(batch_size=10, max_items=10)
    assert (run.checked, run.wrapped) == (2, True)


def test_one_sweep_at_a_time(db):
    from django.db import connections

    make_evidence(IncidentFactory(tenant=TenantFactory()))
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", ["evidence:integrity-sweep"])
        assert evidence_integrity_sweep(batch_size=10, max_items=10).skipped
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", ["evidence:integrity-sweep"])
    finally:
        other.close()
    assert not evidence_integrity_sweep(batch_size=10, max_items=10).skipped


def test_the_sweep_is_on_the_beat_schedule(settings):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert sweep_task.name in schedule


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_finds_a_flipped_byte_in_a_real_worker(celery_worker_process, settings):  # noqa: F811
    # The worker is another process with the configured storage ($VAR_DIR/evidence): store the bytes there.
    location = Path(settings.VAR_DIR) / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": settings.STORAGES["evidence"]["BACKEND"],
            "OPTIONS": {"location": str(location)},
        },
    }
    item = make_evidence(IncidentFactory(tenant=TenantFactory()), content=os.urandom(4096))
    try:
        flip_a_byte(item)

        sweep_task.delay()

        failed = wait_for(
            lambda: AuditEntry.unscoped.filter(
                verb="evidence.integrity_failed", target_id=str(item.pk)
            ).first(),
            timeout=60,
        )
        assert failed.channel == "task"
        assert Evidence.unscoped.get(pk=item.pk).last_verification_ok is False
        assert IntegritySweep.objects.get(name=SWEEP).passes_completed == 1
    finally:
        shutil.rmtree(location / "evidence" / str(item.tenant_id), ignore_errors=True)
