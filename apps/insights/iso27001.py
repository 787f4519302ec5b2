"""The ISO/IEC 27001 evidence report: for each incident-management control, the records that show it
operated in the period, and the gaps an auditor would ask about."""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.assessment.models import Assessment
from apps.catalog.models import Category, SeverityMatrix
from apps.evidence.choices import CustodyAction
from apps.evidence.models import CustodyEvent, Evidence
from apps.insights.period import Period
from apps.reporting.choices import ReportStatus
from apps.reporting.models import Report
from apps.response.choices import ActionStatus, IncidentStatus, Severity, TimelineKind
from apps.response.models import Incident, ResponseAction, TimelineEntry
from apps.reviews.choices import PENDING_STATUSES, ReviewStatus
from apps.reviews.models import CorrectiveAction, Review
from apps.tenancy.models import Membership, Tenant
from apps.tenancy.roles import RoleId

GAP_SAMPLE = 50  # gap items listed by reference (the count is always complete)


@dataclass
class Gap:
    code: str
    description: str
    count: int
    items: list[dict]


def _gap(code: str, description: str, queryset: QuerySet, label: str = "reference") -> Gap:
    rows = list(queryset.order_by("pk").values("pk", label)[:GAP_SAMPLE])
    return Gap(
        code=code,
        description=description,
        count=queryset.count(),
        items=[{"id": str(row["pk"]), label: row[label]} for row in rows],
    )


@dataclass
class ControlSection:
    control: str
    title: str
    iso27001_2013: list[str]
    records: dict
    gaps: list[Gap] = field(default_factory=list)


def _counts(queryset: QuerySet, name: str) -> dict:
    return {
        row[name] or "none": row["n"] for row in queryset.values(name).annotate(n=Count("pk")).order_by(name)
    }


def iso27001_report(*, tenant_ids: frozenset, period: Period) -> list[ControlSection]:
    in_tenants = Q(tenant_id__in=tenant_ids)
    now = timezone.now()
    reports = Report.objects.filter(in_tenants, received_at__gte=period.start, received_at__lt=period.end)
    assessments = Assessment.objects.filter(
        in_tenants, decided_at__gte=period.start, decided_at__lt=period.end
    )
    incidents = Incident.objects.filter(in_tenants, declared_at__gte=period.start, declared_at__lt=period.end)
    closed = Incident.objects.filter(in_tenants, closed_at__gte=period.start, closed_at__lt=period.end)
    timeline = TimelineEntry.objects.filter(in_tenants, at__gte=period.start, at__lt=period.end)
    completed_review = Review.objects.filter(incident=OuterRef("pk"), status=ReviewStatus.COMPLETED)
    memberships = Membership.objects.filter(in_tenants)
    evidence_in_period = Evidence.objects.filter(
        in_tenants, uploaded_at__gte=period.start, uploaded_at__lt=period.end
    )
    custody = CustodyEvent.objects.filter(in_tenants, at__gte=period.start, at__lt=period.end)

    return [
        ControlSection(
            control="5.24",
            title="Information security incident management planning and preparation",
            iso27001_2013=["A.16.1.1"],
            records={
                "members_by_role": _counts(memberships, "role"),
                "own_categories": Category.objects.filter(in_tenants).count(),
                "own_severity_matrices": SeverityMatrix.objects.filter(in_tenants).count(),
            },
            gaps=[
                _gap(
                    "no_incident_manager",
                    "Tenants with no incident manager appointed",
                    _tenants_without_role(tenant_ids, RoleId.MANAGER),
                    label="name",
                )
            ],
        ),
        ControlSection(
            control="6.8",
            title="Information security event reporting",
            iso27001_2013=["A.16.1.2", "A.16.1.3"],
            records={
                "reports": reports.count(),
                "by_kind": _counts(reports, "kind"),
                "by_channel": _counts(reports, "channel"),
                "confidential": reports.filter(confidential=True).count(),
                "acknowledged": reports.filter(acknowledged_at__isnull=False).count(),
            },
            gaps=[
                _gap(
                    "not_acknowledged",
                    "Reports without an acknowledgement",
                    reports.filter(acknowledged_at=None),
                ),
            ],
        ),
        ControlSection(
            control="5.25",
            title="Assessment and decision on information security events",
            iso27001_2013=["A.16.1.4"],
            records={
                "decisions": assessments.count(),
                "by_decision": _counts(assessments, "decision"),
                "by_severity": _counts(assessments, "severity"),
                "reassessments": assessments.filter(
                    Exists(
                        Assessment.objects.filter(
                            report=OuterRef("report"), decided_at__lt=OuterRef("decided_at")
                        )
                    )
                ).count(),
            },
            gaps=[
                _gap("never_assessed", "Reports never assessed", reports.filter(status=ReportStatus.NEW)),
                _gap(
                    "no_rationale",
                    "Decisions without a written rationale",
                    assessments.filter(rationale__regex=r"^\s*$").select_related("report"),
                    label="report__reference",
                ),
            ],
        ),
        ControlSection(
            control="5.26",
            title="Response to information security incidents",
            iso27001_2013=["A.16.1.5"],
            records={
                "incidents": incidents.count(),
                "by_severity": _counts(incidents, "severity"),
                "by_status": _counts(incidents, "status"),
                "state_changes": timeline.filter(verb="incident.transitioned").count(),
                "communications": timeline.filter(kind=TimelineKind.COMMUNICATION).count(),
                "escalations": timeline.filter(verb="incident.escalated").count(),
                "actions_done": ResponseAction.objects.filter(
                    in_tenants, completed_at__gte=period.start, completed_at__lt=period.end
                ).count(),
            },
            gaps=[
                _gap(
                    "overdue_response_actions",
                    "Response actions past their due date",
                    ResponseAction.objects.filter(in_tenants, status=ActionStatus.OPEN, due_at__lt=now),
                    label="title",
                ),
                _gap(
                    "closed_without_root_cause",
                    "Incidents closed (not as false alarms) without a root cause",
                    closed.filter(false_alarm=False, root_cause=""),
                ),
            ],
        ),
        ControlSection(
            control="5.27",
            title="Learning from information security incidents",
            iso27001_2013=["A.16.1.6"],
            records={
                "reviews_completed": Review.objects.filter(
                    in_tenants, completed_at__gte=period.start, completed_at__lt=period.end
                ).count(),
                "corrective_actions_by_status": _counts(
                    CorrectiveAction.objects.filter(in_tenants), "status"
                ),
            },
            gaps=[
                _gap(
                    "closed_without_review",
                    "Incidents closed without a completed post-incident review",
                    closed.filter(false_alarm=False).exclude(Exists(completed_review)),
                ),
                _gap(
                    "closed_p1_p2_without_review",
                    "P1/P2 incidents closed without a completed review",
                    closed.filter(false_alarm=False, severity__in=[Severity.P1, Severity.P2]).exclude(
                        Exists(completed_review)
                    ),
                ),
                _gap(
                    "overdue_corrective_actions",
                    "Corrective and preventive actions past their due date",
                    CorrectiveAction.objects.filter(in_tenants, status__in=PENDING_STATUSES, due_at__lt=now),
                    label="title",
                ),
            ],
        ),
        ControlSection(
            control="5.28",
            title="Collection of evidence",
            iso27001_2013=["A.16.1.7"],
            records={
                "incidents_open": incidents.exclude(status=IncidentStatus.CLOSED).count(),
                "evidence_collected": evidence_in_period.count(),
                "evidence_by_method": _counts(evidence_in_period, "method"),
                "custody_events": custody.count(),
                "custody_by_action": _counts(custody, "action"),
                "verifications": custody.filter(action=CustodyAction.VERIFIED).count(),
                "failed_verifications": custody.filter(action=CustodyAction.VERIFIED, data__ok=False).count(),
                "exports": custody.filter(action=CustodyAction.EXPORTED).count(),
            },
            gaps=[
                _gap(
                    "evidence_never_verified",
                    "Evidence never re-verified since intake",
                    Evidence.objects.filter(in_tenants, last_verified_at=None),
                    label="original_name",
                ),
                _gap(
                    "integrity_failures_unresolved",
                    "Evidence whose latest integrity check failed (mismatch or missing file)",
                    Evidence.objects.filter(in_tenants, last_verification_ok=False),
                    label="original_name",
                ),
            ],
        ),
    ]


def _tenants_without_role(tenant_ids: frozenset, role: str) -> QuerySet:
    """Tenants where nobody holds `role`, there or in an ancestor (a membership covers descendants)."""
    paths = dict(Tenant.objects.filter(id__in=tenant_ids).values_list("id", "path"))
    # A path lists the tenant's ancestors' ids, so the candidates are known without walking the tree.
    lineage = {tenant_id for path in paths.values() for tenant_id in path.strip("/").split("/")}
    covering = set(
        Membership.unscoped.filter(role=role, tenant_id__in=lineage).values_list("tenant__path", flat=True)
    )
    uncovered = [tid for tid, path in paths.items() if not any(path.startswith(c) for c in covering)]
    return Tenant.objects.filter(id__in=uncovered)
