"""/api/v1/: every app registers its endpoints here."""

from django.urls import path

from apps.assessment.api.views import AssessmentViewSet
from apps.audit.api.views import AuditCheckpointViewSet, AuditEntryViewSet
from apps.catalog.api.views import CategoryViewSet, RegimeViewSet
from apps.core.api.routers import Router
from apps.evidence.api.views import CustodyViewSet, EvidencePackageViewSet, EvidenceViewSet
from apps.insights.api.views import ComplianceReportViewSet, MetricsViewSet
from apps.notifications.api.calendar import CalendarViewSet
from apps.notifications.api.channel_views import (
    NotificationPreferenceViewSet,
    NotificationViewSet,
    WebhookDeliveryViewSet,
    WebhookViewSet,
)
from apps.notifications.api.training import CourseViewSet, TrainingAssignmentViewSet
from apps.notifications.api.views import AuthorityViewSet, ObligationViewSet
from apps.reporting.api.views import ReportViewSet
from apps.response.api.views import (
    IncidentGrantViewSet,
    IncidentViewSet,
    ResponseActionViewSet,
    TimelineViewSet,
)
from apps.reviews.api.views import (
    CorrectiveActionListViewSet,
    CorrectiveActionViewSet,
    LessonViewSet,
    ReviewViewSet,
)
from apps.tenancy.api.views import (
    AuthTokenView,
    MembershipRequestViewSet,
    MembershipViewSet,
    OwnTokenViewSet,
    TenantViewSet,
    UserViewSet,
)

router = Router()
router.register("tenants", TenantViewSet, basename="tenant")
router.register("users", UserViewSet, basename="user")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("membership-requests", MembershipRequestViewSet, basename="membership-request")
router.register("auth/tokens", OwnTokenViewSet, basename="auth-own-token")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("audit/checkpoints", AuditCheckpointViewSet, basename="audit-checkpoint")  # before audit/{id}
router.register("audit", AuditEntryViewSet, basename="audit")
router.register("reports", ReportViewSet, basename="report")
router.register("categories", CategoryViewSet, basename="category")
router.register("regimes", RegimeViewSet, basename="regime")
router.register("obligations", ObligationViewSet, basename="obligation")
router.register("authorities", AuthorityViewSet, basename="authority")
router.register("training/courses", CourseViewSet, basename="training-course")
router.register("training/assignments", TrainingAssignmentViewSet, basename="training-assignment")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("notification-preferences", NotificationPreferenceViewSet, basename="notification-preference")
router.register("reviews", ReviewViewSet, basename="review")
router.register("corrective-actions", CorrectiveActionListViewSet, basename="corrective-action")
router.register("lessons", LessonViewSet, basename="lesson")
router.register("compliance/iso27001", ComplianceReportViewSet, basename="compliance-iso27001")
router.register("metrics", MetricsViewSet, basename="metrics")
router.register("evidence", EvidenceViewSet, basename="evidence")

incident_grants = IncidentGrantViewSet.as_view({"get": "list", "post": "create"})
incident_grant = IncidentGrantViewSet.as_view({"delete": "destroy"})

incident_timeline = TimelineViewSet.as_view({"get": "list", "post": "create"})
incident_actions = ResponseActionViewSet.as_view({"get": "list", "post": "create"})
incident_action = ResponseActionViewSet.as_view({"get": "retrieve", "patch": "partial_update"})

evidence_custody = CustodyViewSet.as_view({"get": "list", "post": "create"})
incident_evidence_package = EvidencePackageViewSet.as_view({"get": "package"})

report_assessment = AssessmentViewSet.as_view({"get": "list", "post": "create"})

webhook_deliveries = WebhookDeliveryViewSet.as_view({"get": "list"})

review_actions = CorrectiveActionViewSet.as_view({"get": "list", "post": "create"})
review_action = CorrectiveActionViewSet.as_view({"get": "retrieve", "patch": "partial_update"})

calendar = CalendarViewSet.as_view({"get": "feed", "post": "rotate"})

urlpatterns = [
    path("calendar/", calendar, name="calendar"),
    path("auth/token/", AuthTokenView.as_view(), name="auth-token"),
    path("incidents/<str:incident_pk>/grants/", incident_grants, name="incident-grant-list"),
    path("incidents/<str:incident_pk>/grants/<str:pk>/", incident_grant, name="incident-grant-detail"),
    path("incidents/<str:incident_pk>/timeline/", incident_timeline, name="incident-timeline-list"),
    path("incidents/<str:incident_pk>/actions/", incident_actions, name="incident-action-list"),
    path("incidents/<str:incident_pk>/actions/<str:pk>/", incident_action, name="incident-action-detail"),
    path("evidence/<str:evidence_pk>/custody/", evidence_custody, name="evidence-custody-list"),
    path(
        "incidents/<str:incident_pk>/evidence-package/",
        incident_evidence_package,
        name="incident-evidence-package",
    ),
    path("reviews/<str:review_pk>/actions/", review_actions, name="review-action-list"),
    path("reviews/<str:review_pk>/actions/<str:pk>/", review_action, name="review-action-detail"),
    path("reports/<str:report_pk>/assessment/", report_assessment, name="report-assessment-list"),
    path("webhooks/<str:webhook_pk>/deliveries/", webhook_deliveries, name="webhook-delivery-list"),
    *router.urls,
]
