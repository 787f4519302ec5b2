"""The pages. Object pages take `<kind>_id` UUIDs (tests/web/test_isolation.py walks this list)."""

from django.urls import path

from apps.web.views import auth, incidents, queue, reports

app_name = "web"

urlpatterns = [
    path("", reports.HomeView.as_view(), name="home"),
    path("sign-in/", auth.SignInView.as_view(), name="sign-in"),
    path("sign-out/", auth.SignOutView.as_view(), name="sign-out"),
    path("tenant/", auth.TenantFilterView.as_view(), name="tenant"),
    path("report/", reports.ReportCreateView.as_view(), name="report"),
    path("reports/mine/", reports.MyReportsView.as_view(), name="my-reports"),
    path("reports/<uuid:report_id>/filed/", reports.ReportFiledView.as_view(), name="report-filed"),
    path("queue/", queue.QueueView.as_view(), name="queue"),
    path("queue/<uuid:report_id>/", queue.AssessView.as_view(), name="assess"),
    path("incidents/", incidents.IncidentListView.as_view(), name="incidents"),
    path("incidents/<uuid:incident_id>/", incidents.IncidentWorkspaceView.as_view(), name="incident"),
    path(
        "incidents/<uuid:incident_id>/transition/",
        incidents.TransitionView.as_view(),
        name="incident-transition",
    ),
    path("incidents/<uuid:incident_id>/actions/", incidents.ActionCreateView.as_view(), name="action-create"),
    path(
        "incidents/<uuid:incident_id>/actions/<uuid:action_id>/status/",
        incidents.ActionStatusView.as_view(),
        name="action-status",
    ),
    path(
        "incidents/<uuid:incident_id>/timeline/", incidents.TimelineNoteView.as_view(), name="timeline-note"
    ),
    path(
        "incidents/<uuid:incident_id>/evidence/",
        incidents.EvidenceUploadView.as_view(),
        name="evidence-upload",
    ),
    path(
        "incidents/<uuid:incident_id>/evidence/<uuid:evidence_id>/custody/",
        incidents.CustodyView.as_view(),
        name="custody",
    ),
    path(
        "incidents/<uuid:incident_id>/obligations/<uuid:obligation_id>/submit/",
        incidents.SubmissionView.as_view(),
        name="obligation-submit",
    ),
]
