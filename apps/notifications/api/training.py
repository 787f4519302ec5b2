"""/api/v1/training/courses/ and /api/v1/training/assignments/ (ISO 27001 A.6.3)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.fields import ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictModelSerializer, StrictSerializer
from apps.notifications import training
from apps.notifications.models import Course, TrainingAssignment
from apps.tenancy.api.base import TenantScopedViewSet
from apps.tenancy.roles import Scope
from apps.tenancy.selectors import tenant_list, user_list


class CourseSerializer(StrictModelSerializer):
    class Meta:
        model = Course
        fields = [
            "id",
            "tenant",
            "name",
            "description",
            "mandatory",
            "recurrence_months",
            "due_within_days",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "tenant", "created_at", "updated_at"]


class CourseCreateSerializer(CourseSerializer):
    tenant = ScopedPrimaryKeyRelatedField(lambda access: tenant_list(access=access))

    class Meta(CourseSerializer.Meta):
        read_only_fields = ["id", "created_at", "updated_at"]


class TrainingAssignmentSerializer(serializers.ModelSerializer):
    """A course one person completes by `due_at`; `overdue` is open past due."""

    course_name = serializers.CharField(source="course.name", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = TrainingAssignment
        fields = [
            "id",
            "tenant",
            "course",
            "course_name",
            "user",
            "username",
            "due_at",
            "completed_at",
            "completed_by",
            "overdue",
            "last_reminder_point",
            "created_at",
        ]
        read_only_fields = fields

    def get_overdue(self, obj) -> bool:
        from django.utils import timezone

        return obj.completed_at is None and obj.due_at < timezone.now()


class TrainingAssignmentCreateSerializer(StrictSerializer):
    course = ScopedPrimaryKeyRelatedField(lambda access: training.course_list(access=access))
    user = ScopedPrimaryKeyRelatedField(lambda access: user_list(access=access))
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class TrainingCompleteSerializer(StrictSerializer):
    completed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class CourseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantScopedViewSet
):
    """The tenants' training courses: members read, tenant admins write. A mandatory course is assigned
    to every member (new members included)."""

    serializer_class = CourseSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {
        "list": Scope.TENANT_READ,
        "retrieve": Scope.TENANT_READ,
        "create": Scope.TENANT_ADMIN,
        "partial_update": Scope.TENANT_ADMIN,
    }

    def get_serializer_class(self):
        return CourseCreateSerializer if self.action == "create" else CourseSerializer

    def scoped_queryset(self):
        return training.course_list(access=self.access).order_by("name", "id")

    def perform_create(self, serializer):
        serializer.instance = training.course_create(
            actor=self.request.user, access=self.access, **serializer.validated_data
        )

    @extend_schema(request=CourseSerializer, responses={200: CourseSerializer})
    def partial_update(self, request, pk=None):
        course = self.get_object()
        serializer = CourseSerializer(course, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        course = training.course_update(
            actor=request.user, access=self.access, course=course, **serializer.validated_data
        )
        return Response(CourseSerializer(course).data)


class TrainingAssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Training assignments: tenant admins, managers and auditors see the tenant's, everyone their own.
    POST (tenant admins) assigns a course; POST /{id}/complete/ records the completion (the person or a
    tenant admin) and opens the next one of a recurring course."""

    serializer_class = TrainingAssignmentSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {
        "list": Scope.TENANT_READ,
        "retrieve": Scope.TENANT_READ,
        "create": Scope.TENANT_ADMIN,
        "complete": Scope.TENANT_READ,
    }

    def scoped_queryset(self):
        return training.assignment_list(access=self.access).order_by("due_at", "id")

    def _reloaded(self, assignment):
        return self.get_serializer(self.get_queryset().get(pk=assignment.pk)).data

    @extend_schema(request=TrainingAssignmentCreateSerializer, responses={201: TrainingAssignmentSerializer})
    def create(self, request):
        serializer = TrainingAssignmentCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        assignment = training.assignment_create(
            actor=request.user, access=self.access, **serializer.validated_data
        )
        return Response(self._reloaded(assignment), status=status.HTTP_201_CREATED)

    @extend_schema(request=TrainingCompleteSerializer, responses={200: TrainingAssignmentSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Record the completion. 409 when already completed."""
        assignment = self.get_object()
        serializer = TrainingCompleteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        training.assignment_complete(
            actor=request.user, access=self.access, assignment=assignment, **serializer.validated_data
        )
        return Response(self._reloaded(assignment))
