# ruff: noqa: S608 - the SQL names tables and columns of the catalogue and the models, never input
"""Issue 8: a child row never points at another tenant's parent, whatever writes it.

The database catalogue is the source of truth: every foreign key between two tenant-owned tables (both have a
`tenant_id` referencing tenancy_tenant) must come with a same-tenant guarantee the database enforces:

- a composite foreign key (tenant_id, <column>) → <parent>(tenant_id, id), the parent carrying a UNIQUE
  (tenant_id, id) (apps.core.db.same_tenant); when the child's tenant may be NULL, a CHECK that ties <column>
  to tenant_id as well (MATCH SIMPLE does not check a row with a NULL tenant);
- or, when the parent is reference data whose shipped rows have no tenant (categories, regimes, steps), the
  constraint trigger of apps.core.db.same_tenant_or_shipped.

A new model with a link and no such constraint fails `test_every_link_between_tenant_owned_tables_...`, which
lists the offenders. `test_a_link_to_another_tenants_parent_is_refused` then writes such a link for every
link of the models, through raw SQL, and expects the database to refuse it."""

import datetime
import uuid

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from apps.assessment.models import Assessment
from apps.catalog.models import Category, Regime, RegimeStep
from apps.evidence.models import CustodyEvent, Evidence
from apps.notifications.models import (
    AnnualObligationIncident,
    Authority,
    Course,
    Notification,
    Obligation,
    OutboxMessage,
    ReminderSent,
    TrainingAssignment,
    WebhookDelivery,
    WebhookSubscription,
)
from apps.reporting.models import Report
from apps.response.models import (
    IncidentGroupObjectPermission,
    IncidentTeamMember,
    IncidentUserObjectPermission,
    ResponseAction,
    TimelineEntry,
)
from apps.reviews.models import CorrectiveAction, Review
from tests.factories import IncidentFactory, TenantFactory, UserFactory

SAME_TENANT_OR_SHIPPED = "vigil_same_tenant_or_shipped"

# --------------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------------

_TENANT_OWNED = """
    SELECT c.conrelid AS rel, NOT a.attnotnull AS tenant_nullable
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'f' AND c.confrelid = 'tenancy_tenant'::regclass
      AND cardinality(c.conkey) = 1 AND a.attname = 'tenant_id'
"""

_LINKS = f"""
    WITH owned AS ({_TENANT_OWNED})
    SELECT fk.conrelid::regclass::text, col.attname, fk.confrelid::regclass::text, ref.attname,
           child.tenant_nullable, parent.tenant_nullable
    FROM pg_constraint fk
    JOIN owned child ON child.rel = fk.conrelid
    JOIN owned parent ON parent.rel = fk.confrelid
    JOIN pg_attribute col ON col.attrelid = fk.conrelid AND col.attnum = fk.conkey[1]
    JOIN pg_attribute ref ON ref.attrelid = fk.confrelid AND ref.attnum = fk.confkey[1]
    WHERE fk.contype = 'f' AND cardinality(fk.conkey) = 1 AND col.attname <> 'tenant_id'
    ORDER BY 1, 2
"""

# Column names of a constraint's keys, in key order.
_COLUMNS = """
    array(SELECT a.attname FROM unnest({keys}) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.attnum ORDER BY k.n)
"""

_COMPOSITE_FOREIGN_KEYS = f"""
    SELECT fk.conname, fk.conrelid::regclass::text, fk.confrelid::regclass::text,
           {_COLUMNS.format(keys="fk.conkey", rel="fk.conrelid")},
           {_COLUMNS.format(keys="fk.confkey", rel="fk.confrelid")}
    FROM pg_constraint fk
    WHERE fk.contype = 'f' AND cardinality(fk.conkey) > 1
"""

_CHECKS = f"""
    SELECT c.conrelid::regclass::text, {_COLUMNS.format(keys="c.conkey", rel="c.conrelid")}
    FROM pg_constraint c WHERE c.contype = 'c'
"""

_CONSTRAINT_TRIGGERS = """
    SELECT t.tgname, t.tgrelid::regclass::text, t.tgargs
    FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
    WHERE p.proname = %s AND t.tgconstraint <> 0 AND t.tgenabled <> 'D'
"""


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def catalogue_links() -> list[tuple[str, str, str, str, bool, bool]]:
    """(child table, column, parent table, parent column, child tenant nullable, parent tenant nullable)."""
    return _rows(_LINKS)


def same_tenant_guards() -> dict[tuple[str, str], str]:
    """(child table, column) → the constraint that keeps the link in one tenant."""
    guards = {}
    links = {
        (child, column): (parent, ref, child_null, parent_null)
        for child, column, parent, ref, child_null, parent_null in catalogue_links()
    }
    checks = {}
    for table, columns in _rows(_CHECKS):
        checks.setdefault(table, []).append(set(columns))
    for name, child, parent, columns, referenced in _rows(_COMPOSITE_FOREIGN_KEYS):
        pairs = dict(zip(columns, referenced, strict=True))
        if len(pairs) != 2 or pairs.get("tenant_id") != "tenant_id":
            continue
        (column,) = set(pairs) - {"tenant_id"}
        link = links.get((child, column))
        if link is None or link[0] != parent or link[1] != pairs[column]:
            continue
        child_null = link[2]
        if child_null and not any({column, "tenant_id"} <= keys for keys in checks.get(child, [])):
            continue  # a NULL tenant would slip past MATCH SIMPLE
        guards[(child, column)] = name
    for name, child, raw_args in _rows(_CONSTRAINT_TRIGGERS, [SAME_TENANT_OR_SHIPPED]):
        column, parent, _mode = bytes(raw_args).decode().split("\x00")[:3]
        link = links.get((child, column))
        if link is not None and link[0] == parent and link[3]:  # only for reference data (nullable tenant)
            guards.setdefault((child, column), name)
    return guards


def _tenant_owned(model) -> bool:
    return any(field.name == "tenant" for field in model._meta.concrete_fields)


def model_links() -> list[tuple[str, str, str]]:
    """(child table, column, parent table) of every foreign key between two models with a `tenant`."""
    return sorted(
        (model._meta.db_table, field.column, field.related_model._meta.db_table)
        for model in apps.get_models(include_auto_created=True)
        if _tenant_owned(model) and not model._meta.proxy
        for field in model._meta.concrete_fields
        if field.is_relation and field.name != "tenant" and _tenant_owned(field.related_model)
    )


MODEL_LINKS = model_links()


# --------------------------------------------------------------------------------------------------
# The meta-tests
# --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_link_between_tenant_owned_tables_has_a_same_tenant_constraint():
    links = catalogue_links()
    guards = same_tenant_guards()
    offenders = [
        f"{child}.{column} → {parent}" for child, column, parent, *_ in links if (child, column) not in guards
    ]
    assert not offenders, (
        "Foreign keys between tenant-owned tables without a same-tenant constraint (add a UNIQUE "
        "(tenant, id) on the parent and apps.core.db.same_tenant in a migration, or same_tenant_or_shipped "
        "for reference data):\n  " + "\n  ".join(offenders)
    )


@pytest.mark.django_db
def test_the_catalogue_sees_every_link_the_models_declare():
    """A model link without a database foreign key (db_constraint=False) would escape the catalogue check."""
    found = {(child, column, parent) for child, column, parent, *_ in catalogue_links()}
    assert ("response_timelineentry", "incident_id", "response_incident") in found
    assert ("notifications_obligation", "step_id", "catalog_regimestep") in found
    missing = [
        f"{child}.{column} → {parent}"
        for child, column, parent in MODEL_LINKS
        if (child, column, parent) not in found
    ]
    assert not missing, "Links without a foreign key in the database:\n  " + "\n  ".join(missing)


# --------------------------------------------------------------------------------------------------
# The database refuses every cross-tenant link
# --------------------------------------------------------------------------------------------------


def _shipped_step() -> RegimeStep:
    return RegimeStep.unscoped.filter(tenant__isnull=True).order_by("code").first()


def _report(tenant, user, now, title: str, **links) -> Report:
    return Report.unscoped.create(
        tenant=tenant,
        reference=f"R-{uuid.uuid4().hex[:8]}",
        kind="event",
        title=title,
        occurred_at=now,
        reporter=user,
        channel="web",
        received_at=now,
        **links,
    )


def _evidence(tenant, user, now, sha256: str, **links) -> Evidence:
    return Evidence.unscoped.create(
        tenant=tenant,
        sha256=sha256,
        size=1,
        storage_key=f"test/{uuid.uuid4()}",
        original_name="capture.log",
        source="host",
        collected_by=user,
        collected_at=now,
        uploaded_by=user,
        uploaded_at=now,
        **links,
    )


def _world(tenant, *, full: bool) -> None:
    """`full`: one row of every tenant-owned child with each of its links set, all within `tenant`.
    Otherwise: parents only, and of each parent table a row that no child of the tenant links to (the target
    of the cross-tenant link, so no unique constraint on the link fires first)."""
    now = timezone.now()
    user = UserFactory()
    shipped_category = Category.unscoped.filter(tenant__isnull=True).order_by("code").first()
    category = Category.unscoped.create(
        tenant=tenant, code=f"own-{tenant.slug}", name="Own", parent=shipped_category
    )
    regime = Regime.unscoped.create(tenant=tenant, code=f"contract-{tenant.slug}"[:30], name="Contract")
    step = RegimeStep.unscoped.create(tenant=tenant, regime=regime, code="C-1", name="Tell", notice="c-1")
    incident = IncidentFactory(tenant=tenant, category=category if full else shipped_category)
    report = _report(tenant, user, now, "Phishing")
    evidence = _evidence(tenant, user, now, "0" * 64, report=report)
    authority = Authority.unscoped.create(tenant=tenant, kind="csirt", name="CERT", jurisdiction="FR")
    annual = Obligation.unscoped.create(
        tenant=tenant, period_year=2026, regime=regime.code, step=_shipped_step(), notice="annual"
    )
    Notification.unscoped.create(tenant=tenant, user=user, kind="test", subject="Hi")
    message = OutboxMessage.objects.create(
        tenant=tenant, channel="webhook", recipient="https://example.org/h"
    )
    course = Course.unscoped.create(tenant=tenant, name="Awareness")
    subscription = WebhookSubscription.unscoped.create(tenant=tenant, url="https://example.org/h", secret="s")
    review = Review.unscoped.create(tenant=tenant, incident=IncidentFactory(tenant=tenant))
    if not full:
        Regime.unscoped.create(tenant=tenant, code=f"spare-{tenant.slug}"[:30], name="Spare")
        _report(tenant, user, now, "Spare")
        return

    Category.unscoped.create(tenant=tenant, code=f"sub-{tenant.slug}", name="Sub", parent=category)
    duplicate = _report(tenant, user, now, "Same phishing", incident=incident, duplicate_of=report)
    Assessment.unscoped.create(
        tenant=tenant,
        report=duplicate,
        decided_by=user,
        decided_at=now,
        decision="incident",
        category=category,
        rationale="Seen before.",
        duplicate_of=report,
        incident=incident,
    )
    correction = _evidence(tenant, user, now, "1" * 64, incident=incident, supersedes=evidence)
    CustodyEvent.unscoped.create(
        tenant=tenant,
        evidence=correction,
        action="collected",
        at=now,
        actor=user,
        actor_repr="u",
        to_holder="u",
    )
    view = Permission.objects.get(content_type__app_label="response", codename="view_incident")
    IncidentUserObjectPermission.objects.create(
        tenant=tenant, content_object=incident, user=user, permission=view
    )
    IncidentGroupObjectPermission.objects.create(
        tenant=tenant,
        content_object=incident,
        group=Group.objects.create(name=f"g-{uuid.uuid4()}"),
        permission=view,
    )
    IncidentTeamMember.unscoped.create(tenant=tenant, incident=incident, user=user)
    TimelineEntry.unscoped.create(
        tenant=tenant,
        incident=incident,
        at=now,
        kind="observation",
        verb="noted",
        actor_repr="u",
        summary="Seen",
    )
    ResponseAction.unscoped.create(tenant=tenant, incident=incident, title="Contain")
    obligation = Obligation.unscoped.create(
        tenant=tenant, incident=incident, regime=regime.code, step=step, notice="c-1", authority=authority
    )
    AnnualObligationIncident.unscoped.create(tenant=tenant, obligation=annual, incident=incident)
    notified = Notification.unscoped.create(
        tenant=tenant, user=user, kind="test", subject="Hi", incident=incident
    )
    OutboxMessage.objects.create(
        tenant=tenant, channel="email", recipient="a@example.org", notification=notified
    )
    ReminderSent.unscoped.create(tenant=tenant, obligation=obligation, point="50%", sent_at=now)
    TrainingAssignment.unscoped.create(
        tenant=tenant, course=course, user=user, due_at=now + datetime.timedelta(days=30)
    )
    WebhookDelivery.unscoped.create(
        tenant=tenant, subscription=subscription, message=message, event_type="incident.created", attempt=1
    )
    CorrectiveAction.unscoped.create(tenant=tenant, review=review, title="Train people")


def _plant(child: str, column: str, row_id, parent_id) -> None:
    """Point the child row at `parent_id`: in place, or for append-only tables (whose triggers refuse any
    UPDATE before a constraint is checked) as a copy of the row with a new id."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {child} SET {column} = %s WHERE id = %s", [parent_id, row_id])
            return
    except IntegrityError:
        raise
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "42501":  # insufficient_privilege: append-only
            raise
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {child} SELECT * FROM jsonb_populate_record(NULL::{child}, "
            f"(SELECT to_jsonb(t) FROM {child} t WHERE id = %s) "
            "|| jsonb_build_object('id', %s::uuid, %s, %s::uuid))",
            [row_id, uuid.uuid4(), column, parent_id],
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("child", "column", "parent"), MODEL_LINKS, ids=[f"{c}.{col}" for c, col, _ in MODEL_LINKS]
)
def test_a_link_to_another_tenants_parent_is_refused(child, column, parent):
    ours, theirs = TenantFactory(), TenantFactory()
    _world(ours, full=True)
    _world(theirs, full=False)
    rows = _rows(f"SELECT id FROM {child} WHERE tenant_id = %s AND {column} IS NOT NULL LIMIT 1", [ours.pk])
    assert rows, f"_world() writes no {child} row with {column} set: add one"
    spare = _rows(
        f"SELECT p.id FROM {parent} p WHERE p.tenant_id = %s "
        f"AND NOT EXISTS (SELECT 1 FROM {child} c WHERE c.{column} = p.id) LIMIT 1",
        [theirs.pk],
    )
    assert spare, f"_world(full=False) writes no {parent} row that no {child} links to: add one"
    guard = same_tenant_guards()[(child, column)]

    with pytest.raises(IntegrityError) as refused:
        _plant(child, column, rows[0][0], spare[0][0])
    assert refused.value.__cause__.diag.constraint_name == guard


# --------------------------------------------------------------------------------------------------
# The details
# --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_shipped_reference_data_stays_linkable_from_every_tenant():
    tenant = TenantFactory()
    shipped = Category.unscoped.filter(tenant__isnull=True).first()
    incident = IncidentFactory(tenant=tenant, category=shipped)
    obligation = Obligation.unscoped.create(
        tenant=tenant, incident=incident, regime="x", step=_shipped_step(), notice="n"
    )
    own = Category.unscoped.create(tenant=tenant, code="own", name="Own", parent=shipped)
    assert obligation.step.tenant_id is None
    assert own.parent_id == shipped.pk


@pytest.mark.django_db
def test_a_step_repeats_its_regimes_tenant():
    tenant = TenantFactory()
    shipped_regime = Regime.unscoped.filter(tenant__isnull=True).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        RegimeStep.unscoped.create(tenant=tenant, regime=shipped_regime, code="X-1", name="x", notice="x")
    own = Regime.unscoped.create(tenant=tenant, code="own", name="Own")
    # A shipped (tenant-less) step: row-level security refuses it to the app's role before the trigger
    # would (only the owner, migrating, writes shipped rows).
    with pytest.raises(DatabaseError), transaction.atomic():
        RegimeStep.unscoped.create(tenant=None, regime=own, code="X-1", name="x", notice="x")


def _own_reference_row(model, tenant):
    if model is RegimeStep:
        regime = Regime.unscoped.create(tenant=tenant, code="own", name="Own")
        return RegimeStep.unscoped.create(tenant=tenant, regime=regime, code="O-1", name="Own", notice="o-1")
    return model.unscoped.create(tenant=tenant, code="own", name="Own")


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Category, Regime, RegimeStep])
def test_the_tenant_of_reference_data_is_fixed(model):
    """What the constraint triggers checked when a row linked to reference data stays true."""
    tenant, other = TenantFactory(), TenantFactory()
    shipped = model.unscoped.filter(tenant__isnull=True).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        model.unscoped.filter(pk=shipped.pk).update(tenant=tenant)
    own = _own_reference_row(model, tenant)
    for new_tenant in (other, None):
        with pytest.raises(IntegrityError), transaction.atomic():
            model.unscoped.filter(pk=own.pk).update(tenant=new_tenant)
    model.unscoped.filter(pk=own.pk).update(name="Renamed")  # the rest stays editable


@pytest.mark.django_db
def test_an_outbox_message_of_a_notification_carries_its_tenant():
    tenant = TenantFactory()
    notification = Notification.unscoped.create(tenant=tenant, user=UserFactory(), kind="test", subject="Hi")
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(
            tenant=None, channel="email", recipient="a@example.org", notification=notification
        )
    OutboxMessage.objects.create(tenant=None, channel="email", recipient="a@example.org")  # platform mail
