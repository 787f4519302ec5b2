"""The pages. Object pages take `<kind>_id` UUIDs (tests/web/test_isolation.py walks this list)."""

from django.conf import settings
from django.urls import path

from apps.web.views import (
    account,
    auth,
    incidents,
    insights,
    manage,
    notifications,
    queue,
    reports,
    reviews,
    training,
    two_factor,
)

app_name = "web"

urlpatterns = [
    path("", reports.HomeView.as_view(), name="home"),
    path("sign-in/", auth.SignInView.as_view(), name="sign-in"),
    path("sign-out/", auth.SignOutView.as_view(), name="sign-out"),
    path("account/two-factor/", two_factor.SecondFactorStepView.as_view(), name="two-factor"),
    path("account/two-factor/enrol/", two_factor.EnrolView.as_view(), name="two-factor-enrol"),
    path("account/security/", two_factor.SecurityView.as_view(), name="security"),
    path(
        "account/security/recovery-codes/",
        two_factor.RecoveryCodesView.as_view(),
        name="two-factor-recovery-codes",
    ),
    path("account/security/remove/", two_factor.RemoveView.as_view(), name="two-factor-remove"),
    path("account/", account.AccountView.as_view(), name="account"),
    path("account/tokens/", account.TokensView.as_view(), name="account-tokens"),
    path(
        "account/tokens/<uuid:token_id>/revoke/",
        account.TokenRevokeView.as_view(),
        name="account-token-revoke",
    ),
    path("account/email/confirm/", account.EmailConfirmView.as_view(), name="email-confirm"),
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
        "incidents/<uuid:incident_id>/actions/<uuid:action_id>/",
        incidents.ActionAssignView.as_view(),
        name="action-assign",
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
    path("incidents/<uuid:incident_id>/manage/", manage.IncidentManageView.as_view(), name="incident-manage"),
    path("incidents/<uuid:incident_id>/grants/", manage.GrantCreateView.as_view(), name="grant-create"),
    path(
        "incidents/<uuid:incident_id>/grants/<int:grant_id>/revoke/",
        manage.GrantRevokeView.as_view(),
        name="grant-revoke",
    ),
    path("incidents/<uuid:incident_id>/review/", manage.ReviewView.as_view(), name="review"),
    path(
        "incidents/<uuid:incident_id>/review/complete/",
        manage.ReviewCompleteView.as_view(),
        name="review-complete",
    ),
    path(
        "incidents/<uuid:incident_id>/review/actions/",
        manage.CorrectiveActionCreateView.as_view(),
        name="corrective-action-create",
    ),
    path(
        "incidents/<uuid:incident_id>/review/actions/<uuid:corrective_action_id>/",
        manage.CorrectiveActionUpdateView.as_view(),
        name="corrective-action-update",
    ),
    path("reviews/", reviews.ReviewListView.as_view(), name="reviews"),
    path("reviews/lessons/", reviews.LessonSearchView.as_view(), name="lessons"),
    path("dashboard/", insights.DashboardView.as_view(), name="dashboard"),
    path("reports/iso27001/", insights.Iso27001ReportView.as_view(), name="iso27001"),
    path("notifications/", notifications.NotificationCentreView.as_view(), name="notifications"),
    path(
        "notifications/read-all/",
        notifications.NotificationReadAllView.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/<uuid:notification_id>/read/",
        notifications.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path("notifications/preferences/", notifications.PreferencesView.as_view(), name="preferences"),
    path(
        "notifications/calendar/rotate/", notifications.CalendarRotateView.as_view(), name="calendar-rotate"
    ),
    path("training/", training.TrainingView.as_view(), name="training"),
    path(
        "training/<uuid:assignment_id>/complete/",
        training.TrainingCompleteView.as_view(),
        name="training-complete",
    ),
]

# Single sign-on (OpenID Connect): routed only when configured (OIDC_RP_CLIENT_ID, README "Single sign-on").
if settings.OIDC_ENABLED:
    from apps.web.views import sso

    urlpatterns += [
        path("sso/start/", sso.SsoStartView.as_view(), name="sso-start"),
        path("sso/callback/", sso.SsoCallbackView.as_view(), name="sso-callback"),
    ]
