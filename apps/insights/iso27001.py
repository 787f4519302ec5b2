"""The ISO/IEC 27001 evidence report: for each incident-management control, the records that show it
operated in the period, and the gaps an auditor would ask about.

Cost (issue 7): every figure is an aggregate over the tenants' rows of the period, read through indexes
that start with the tenant and the period's date column (apps/insights/migrations). Each table is read
once, grouped by the columns its figures break down by (a few dozen groups at most), and all of it, the
gap samples included, is one SQL statement (apps.insights.batch): the report costs a constant number of
queries, whatever the tenants' size. Repeated reads are served from apps.insights.cache.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.assessment.models import Assessment
from apps.catalog.models import Category, SeverityMatrix
from apps.evidence.choices import CustodyAction
from apps.evidence.models import CustodyEvent, Evidence
from apps.insights.batch import fetch_together
from apps.insights.cache import cached
from apps.insights.period import Period
from apps.reporting.choices import ReportStatus
from apps.reporting.models import Report
from apps.response.choices import ActionStatus, IncidentStatus, Severity, TimelineKind
from apps.response.models import Incident, ResponseAction, TimelineEntry
from apps.response.selectors import incident_visible_condition
from apps.reviews.choices import PENDING_STATUSES, ReviewStatus
from apps.reviews.models import CorrectiveAction, Review
from apps.tenancy.access import Access
from apps.tenancy.models import Membership, Tenant
from apps.tenancy.roles import RoleId, Scope

GAP_SAMPLE = 50  # gap items listed by reference (the count is always complete)


@dataclass
class Gap:
    code: str
    description: str
    count: int
    items: list[dict]


@dataclass
class ControlSection:
    control: str
    title: str
    iso27001_2013: list[str]
    records: dict
    gaps: list[Gap] = field(default_factory=list)


def _sample(queryset: QuerySet, label: str = "reference") -> QuerySet:
    return queryset.order_by("pk").values("pk", label)[:GAP_SAMPLE]


def _total(queryset: QuerySet, **counts) -> QuerySet:
    """One row of conditional counts over `queryset` (no GROUP BY)."""
    return queryset.order_by().values(one=Value(1)).annotate(**counts)


def _tally(rows: list[dict], key: str, value: str = "n") -> dict:
    counter: Counter = Counter()
    for row in rows:
        counter[row[key] or "none"] += row[value]
    return {name: counter[name] for name in sorted(counter) if counter[name]}


def _sum(rows: list[dict], value: str = "n") -> int:
    return sum(row[value] for row in rows)


def iso27001_report(*, access: Access, tenant_ids: frozenset, period: Period) -> list[ControlSection]:
    """The report as `access` may read it: its figures count every row of the tenants; its gap lists name
    only rows of incidents the reader sees in full (a need-to-know incident seen as a summary is not
    listed, nor are its actions, evidence or corrective actions; apps.response.selectors, Need). A reader
    of every need-to-know incident of the tenants shares the tenants' cached report; anyone else has their
    own."""
    if tenant_ids <= access.tenants_with(Scope.INCIDENT_READ_RESTRICTED):
        kind, listed_for = "iso27001", None
    else:
        kind, listed_for = f"iso27001:lists-for:{access.user_id}", access
    return cached(
        kind,
        tenant_ids=tenant_ids,
        period=period,
        compute=lambda: iso27001_sections(tenant_ids=tenant_ids, period=period, listed_for=listed_for),
    )


def _listable(access: Access | None) -> dict[str, Q]:
    """What the gap lists may name, by the kind of row: with `access`, rows of the incidents it sees in full
    (evidence attached to a report only: as before); None: every row of the tenants."""
    if access is None:
        return dict.fromkeys(("incident", "action", "corrective", "evidence"), Q())
    return {
        "incident": incident_visible_condition(access=access, through=None),
        "action": incident_visible_condition(access=access, through="incident"),
        "corrective": incident_visible_condition(access=access, through="review__incident"),
        "evidence": Q(incident__isnull=True) | incident_visible_condition(access=access, through="incident"),
    }


def iso27001_sections(
    *, tenant_ids: frozenset, period: Period, listed_for: Access | None = None
) -> list[ControlSection]:
    """The report computed from the rows (uncached); its gap lists as `listed_for` may read them (None:
    every row, for a reader of every need-to-know incident of the tenants)."""
    listable = _listable(listed_for)
    in_tenants = Q(tenant_id__in=tenant_ids)
    now = timezone.now()
    reports = Report.objects.filter(in_tenants, received_at__gte=period.start, received_at__lt=period.end)
    assessments = Assessment.objects.filter(
        in_tenants, decided_at__gte=period.start, decided_at__lt=period.end
    )
    incidents = Incident.objects.filter(in_tenants, declared_at__gte=period.start, declared_at__lt=period.end)
    closed = Incident.objects.filter(
        in_tenants, closed_at__gte=period.start, closed_at__lt=period.end, false_alarm=False
    )
    timeline = TimelineEntry.objects.filter(in_tenants, at__gte=period.start, at__lt=period.end)
    completed_review = Exists(Review.objects.filter(incident=OuterRef("pk"), status=ReviewStatus.COMPLETED))
    not_acknowledged = reports.filter(acknowledged_at=None)
    never_assessed = reports.filter(status=ReportStatus.NEW)
    no_rationale = assessments.filter(rationale__regex=r"^\s*$")
    overdue_actions = ResponseAction.objects.filter(in_tenants, status=ActionStatus.OPEN, due_at__lt=now)
    without_root_cause = closed.filter(root_cause="")
    without_review = closed.exclude(completed_review)
    p1_p2_without_review = without_review.filter(severity__in=[Severity.P1, Severity.P2])
    overdue_corrective = CorrectiveAction.objects.filter(
        in_tenants, status__in=PENDING_STATUSES, due_at__lt=now
    )
    evidence = Evidence.objects.filter(in_tenants)
    never_verified = evidence.filter(last_verified_at=None)
    integrity_failures = evidence.filter(last_verification_ok=False)
    custody = CustodyEvent.objects.filter(in_tenants, at__gte=period.start, at__lt=period.end)
    verified = Q(action=CustodyAction.VERIFIED)

    rows = fetch_together(
        {
            "members": Membership.objects.filter(in_tenants)
            .order_by()
            .values("role")
            .annotate(n=Count("pk")),
            "categories": _total(Category.objects.filter(in_tenants), n=Count("pk")),
            "matrices": _total(SeverityMatrix.objects.filter(in_tenants), n=Count("pk")),
            "reports": reports.order_by()
            .values("kind", "channel")
            .annotate(
                n=Count("pk"),
                confidential=Count("pk", filter=Q(confidential=True)),
                acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
                new=Count("pk", filter=Q(status=ReportStatus.NEW)),
            ),
            "not_acknowledged": _sample(not_acknowledged),
            "never_assessed": _sample(never_assessed),
            "assessments": assessments.order_by()
            .values("decision", "severity")
            .annotate(
                n=Count("pk"),
                reassessments=Count(
                    "pk",
                    filter=Q(
                        Exists(
                            Assessment.objects.filter(
                                report=OuterRef("report"), decided_at__lt=OuterRef("decided_at")
                            )
                        )
                    ),
                ),
                no_rationale=Count("pk", filter=Q(rationale__regex=r"^\s*$")),
            ),
            "no_rationale": _sample(no_rationale.select_related("report"), label="report__reference"),
            "incidents": incidents.order_by().values("severity", "status").annotate(n=Count("pk")),
            "timeline": _total(
                timeline.filter(
                    Q(verb__in=["incident.transitioned", "incident.escalated"])
                    | Q(kind=TimelineKind.COMMUNICATION)
                ),
                state_changes=Count("pk", filter=Q(verb="incident.transitioned")),
                communications=Count("pk", filter=Q(kind=TimelineKind.COMMUNICATION)),
                escalations=Count("pk", filter=Q(verb="incident.escalated")),
            ),
            "actions_done": _total(
                ResponseAction.objects.filter(
                    in_tenants, completed_at__gte=period.start, completed_at__lt=period.end
                ),
                n=Count("pk"),
            ),
            "overdue_actions": _total(overdue_actions, n=Count("pk")),
            "overdue_actions_sample": _sample(overdue_actions.filter(listable["action"]), label="title"),
            "closed": _total(
                closed,
                without_root_cause=Count("pk", filter=Q(root_cause="")),
                without_review=Count("pk", filter=~completed_review),
                p1_p2_without_review=Count(
                    "pk", filter=~completed_review & Q(severity__in=[Severity.P1, Severity.P2])
                ),
            ),
            "without_root_cause": _sample(without_root_cause.filter(listable["incident"])),
            "without_review": _sample(without_review.filter(listable["incident"])),
            "p1_p2_without_review": _sample(p1_p2_without_review.filter(listable["incident"])),
            "reviews_completed": _total(
                Review.objects.filter(
                    in_tenants, completed_at__gte=period.start, completed_at__lt=period.end
                ),
                n=Count("pk"),
            ),
            "corrective": CorrectiveAction.objects.filter(in_tenants)
            .order_by()
            .values("status")
            .annotate(n=Count("pk")),
            "overdue_corrective": _total(overdue_corrective, n=Count("pk")),
            "overdue_corrective_sample": _sample(
                overdue_corrective.filter(listable["corrective"]), label="title"
            ),
            "evidence": evidence.filter(uploaded_at__gte=period.start, uploaded_at__lt=period.end)
            .order_by()
            .values("method")
            .annotate(n=Count("pk")),
            "evidence_gaps": _total(
                evidence.filter(Q(last_verified_at=None) | Q(last_verification_ok=False)),
                never_verified=Count("pk", filter=Q(last_verified_at=None)),
                integrity_failures=Count("pk", filter=Q(last_verification_ok=False)),
            ),
            "never_verified": _sample(never_verified.filter(listable["evidence"]), label="original_name"),
            "integrity_failures": _sample(
                integrity_failures.filter(listable["evidence"]), label="original_name"
            ),
            # Tenants with no incident manager: the tenants, and the managers of their lineage (a path lists
            # the tenant's ancestors' ids, so the candidates are known without walking the tree).
            "tenants": Tenant.objects.filter(id__in=tenant_ids).values("id", "path", "name"),
            "managers": Membership.unscoped.filter(
                role=RoleId.MANAGER,
                tenant_id__in=RawSQL(
                    "SELECT unnest(string_to_array(trim(both '/' from path), '/'))::uuid"
                    " FROM tenancy_tenant WHERE id = ANY(%s)",
                    [list(tenant_ids)],
                ),
            ).values("tenant__path"),
            "custody": custody.order_by()
            .values("action")
            .annotate(n=Count("pk"), failed=Count("pk", filter=verified & Q(data__ok=False))),
        }
    )

    def gap(code: str, description: str, count: int, sample: str, label: str = "reference") -> Gap:
        items = sorted(rows[sample], key=lambda row: row["pk"])
        return Gap(
            code=code,
            description=description,
            count=count,
            items=[{"id": str(row["pk"]), label: row[label]} for row in items],
        )

    def one(name: str, figure: str = "n") -> int:
        return rows[name][0][figure] if rows[name] else 0

    report_rows, assessment_rows, incident_rows = rows["reports"], rows["assessments"], rows["incidents"]
    custody_rows = rows["custody"]
    custody_by_action = _tally(custody_rows, "action")
    no_manager = _uncovered(rows["tenants"], {row["tenant__path"] for row in rows["managers"]})
    return [
        ControlSection(
            control="5.24",
            title="Information security incident management planning and preparation",
            iso27001_2013=["A.16.1.1"],
            records={
                "members_by_role": _tally(rows["members"], "role"),
                "own_categories": one("categories"),
                "own_severity_matrices": one("matrices"),
            },
            gaps=[
                Gap(
                    code="no_incident_manager",
                    description="Tenants with no incident manager appointed",
                    count=len(no_manager),
                    items=[{"id": str(pk), "name": name} for pk, name in no_manager[:GAP_SAMPLE]],
                )
            ],
        ),
        ControlSection(
            control="6.8",
            title="Information security event reporting",
            iso27001_2013=["A.16.1.2", "A.16.1.3"],
            records={
                "reports": _sum(report_rows),
                "by_kind": _tally(report_rows, "kind"),
                "by_channel": _tally(report_rows, "channel"),
                "confidential": _sum(report_rows, "confidential"),
                "acknowledged": _sum(report_rows, "acknowledged"),
            },
            gaps=[
                gap(
                    "not_acknowledged",
                    "Reports without an acknowledgement",
                    _sum(report_rows) - _sum(report_rows, "acknowledged"),
                    "not_acknowledged",
                ),
            ],
        ),
        ControlSection(
            control="5.25",
            title="Assessment and decision on information security events",
            iso27001_2013=["A.16.1.4"],
            records={
                "decisions": _sum(assessment_rows),
                "by_decision": _tally(assessment_rows, "decision"),
                "by_severity": _tally(assessment_rows, "severity"),
                "reassessments": _sum(assessment_rows, "reassessments"),
            },
            gaps=[
                gap("never_assessed", "Reports never assessed", _sum(report_rows, "new"), "never_assessed"),
                gap(
                    "no_rationale",
                    "Decisions without a written rationale",
                    _sum(assessment_rows, "no_rationale"),
                    "no_rationale",
                    label="report__reference",
                ),
            ],
        ),
        ControlSection(
            control="5.26",
            title="Response to information security incidents",
            iso27001_2013=["A.16.1.5"],
            records={
                "incidents": _sum(incident_rows),
                "by_severity": _tally(incident_rows, "severity"),
                "by_status": _tally(incident_rows, "status"),
                "state_changes": one("timeline", "state_changes"),
                "communications": one("timeline", "communications"),
                "escalations": one("timeline", "escalations"),
                "actions_done": one("actions_done"),
            },
            gaps=[
                gap(
                    "overdue_response_actions",
                    "Response actions past their due date",
                    one("overdue_actions"),
                    "overdue_actions_sample",
                    label="title",
                ),
                gap(
                    "closed_without_root_cause",
                    "Incidents closed (not as false alarms) without a root cause",
                    one("closed", "without_root_cause"),
                    "without_root_cause",
                ),
            ],
        ),
        ControlSection(
            control="5.27",
            title="Learning from information security incidents",
            iso27001_2013=["A.16.1.6"],
            records={
                "reviews_completed": one("reviews_completed"),
                "corrective_actions_by_status": _tally(rows["corrective"], "status"),
            },
            gaps=[
                gap(
                    "closed_without_review",
                    "Incidents closed without a completed post-incident review",
                    one("closed", "without_review"),
                    "without_review",
                ),
                gap(
                    "closed_p1_p2_without_review",
                    "P1/P2 incidents closed without a completed review",
                    one("closed", "p1_p2_without_review"),
                    "p1_p2_without_review",
                ),
                gap(
                    "overdue_corrective_actions",
                    "Corrective and preventive actions past their due date",
                    one("overdue_corrective"),
                    "overdue_corrective_sample",
                    label="title",
                ),
            ],
        ),
        ControlSection(
            control="5.28",
            title="Collection of evidence",
            iso27001_2013=["A.16.1.7"],
            records={
                "incidents_open": sum(
                    row["n"] for row in incident_rows if row["status"] != IncidentStatus.CLOSED
                ),
                "evidence_collected": _sum(rows["evidence"]),
                "evidence_by_method": _tally(rows["evidence"], "method"),
                "custody_events": _sum(custody_rows),
                "custody_by_action": custody_by_action,
                "verifications": custody_by_action.get(CustodyAction.VERIFIED, 0),
                "failed_verifications": _sum(custody_rows, "failed"),
                "exports": custody_by_action.get(CustodyAction.EXPORTED, 0),
            },
            gaps=[
                gap(
                    "evidence_never_verified",
                    "Evidence never re-verified since intake",
                    one("evidence_gaps", "never_verified"),
                    "never_verified",
                    label="original_name",
                ),
                gap(
                    "integrity_failures_unresolved",
                    "Evidence whose latest integrity check failed (mismatch or missing file)",
                    one("evidence_gaps", "integrity_failures"),
                    "integrity_failures",
                    label="original_name",
                ),
            ],
        ),
    ]


def _uncovered(tenants: list[dict], covering: set[str]) -> list[tuple]:
    """(id, name) of the tenants no covering path (a membership covers descendants) starts, by id."""
    uncovered = [
        (row["id"], row["name"]) for row in tenants if not any(row["path"].startswith(c) for c in covering)
    ]
    return sorted(uncovered, key=lambda item: item[0])
