"""Projects API: projects CRUD, members, API keys and the data-plane statistics, every queryset scoped to the
caller's projects."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import figures, services
from projects.api.jetstream import call
from projects.api.serializers import (
    AddMemberSerializer,
    ApiKeySerializer,
    ChangeRoleSerializer,
    MembershipSerializer,
    NewApiKeySerializer,
    ProjectSerializer,
)
from projects.key_last_used import refresh_last_used
from projects.models import ApiKey, Membership, Role
from projects.tenancy import membership_for, projects_of


class ProjectScoped:
    """Resolves ``project_id`` from the URL with the role the request's method needs.

    The check runs in ``initial()``, before the handler reads the body or looks anything else
    up, so a non-member gets 404 and a viewer 403 whatever they send (never a 400 that would
    reveal the project exists or how its validation works).
    """

    read_role = Role.VIEWER
    write_role = Role.ADMIN

    def required_role(self) -> Role:
        return self.read_role if self.request.method in ("GET", "HEAD", "OPTIONS") else self.write_role

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        self.membership()

    def membership(self) -> Membership:
        if not hasattr(self, "_membership"):
            self._membership = membership_for(self.request.user, self.kwargs["project_id"], self.required_role())
        return self._membership

    @property
    def project(self):
        return self.membership().project


def _roles(user) -> dict:
    return dict(Membership.objects.filter(user=user).values_list("project_id", "role"))


class ProjectListView(generics.ListCreateAPIView):
    serializer_class = ProjectSerializer

    def get_queryset(self):
        return projects_of(self.request.user).order_by("name", "created_at")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "roles": _roles(self.request.user)}

    def perform_create(self, serializer):
        try:
            serializer.instance = services.create_project(serializer.validated_data["name"], self.request.user)
        except services.QuotaExceeded as exc:
            raise PermissionDenied(str(exc), code="quota_exceeded") from None
        serializer.context["roles"] = {serializer.instance.pk: Role.OWNER}


class ProjectDetailView(ProjectScoped, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = ProjectSerializer

    def required_role(self) -> Role:
        return Role.OWNER if self.request.method == "DELETE" else super().required_role()

    def get_object(self):
        return self.project

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "roles": _roles(self.request.user)}

    def perform_update(self, serializer):
        services.rename_project(serializer.instance, serializer.validated_data.get("name", serializer.instance.name))

    def perform_destroy(self, instance):
        services.delete_project(instance)


class MemberListView(ProjectScoped, generics.ListCreateAPIView):
    write_role = Role.OWNER
    pagination_class = None

    def get_serializer_class(self):
        return AddMemberSerializer if self.request.method == "POST" else MembershipSerializer

    def get_queryset(self):
        return self.project.memberships.select_related("user").order_by("created_at")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.method == "POST":
            context["project"] = self.project
        return context

    @extend_schema(request=AddMemberSerializer, responses={201: MembershipSerializer})
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            membership = services.add_member(self.project, serializer.context["user"],
                                             Role(serializer.validated_data["role"]))
        except services.InviteError as exc:  # invited twice at the same moment
            raise ValidationError({"email": [str(exc)]}) from None
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(ProjectScoped, APIView):
    write_role = Role.OWNER

    def get_membership(self, user_id: int) -> Membership:
        return get_object_or_404(Membership.objects.select_related("user"), project=self.project, user_id=user_id)

    @extend_schema(responses=MembershipSerializer)
    def get(self, request, project_id, user_id):
        return Response(MembershipSerializer(self.get_membership(user_id)).data)

    @extend_schema(request=ChangeRoleSerializer, responses=MembershipSerializer)
    def patch(self, request, project_id, user_id):
        serializer = ChangeRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            membership = services.change_role(self.get_membership(user_id), Role(serializer.validated_data["role"]))
        except services.LastOwnerError as exc:
            return Response({"role": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(MembershipSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, project_id, user_id):
        try:
            services.remove_member(self.get_membership(user_id))
        except services.LastOwnerError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeyListView(ProjectScoped, generics.ListCreateAPIView):
    serializer_class = ApiKeySerializer

    def get_queryset(self):
        return self.project.api_keys.order_by("-created_at")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        refresh_last_used(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=ApiKeySerializer, responses={201: NewApiKeySerializer})
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, secret = services.mint_key(self.project, serializer.validated_data["name"], request.user)
        key.key = secret
        return Response(NewApiKeySerializer(key).data, status=status.HTTP_201_CREATED)


class ApiKeyRevokeView(ProjectScoped, APIView):
    @extend_schema(request=None, responses=ApiKeySerializer)
    def post(self, request, project_id, key_id):
        key = get_object_or_404(ApiKey, project=self.project, pk=key_id)
        return Response(ApiKeySerializer(services.revoke_key(key)).data)


class ProjectStatsView(ProjectScoped, APIView):
    @extend_schema(responses={200: dict})
    def get(self, request, project_id):
        project_id, bucket = self.project.pk, settings.STATS_BUCKET
        data = call(lambda js: figures.project_stats(js, project_id, bucket))
        names = {str(pk): name for pk, name in self.project.sinks.values_list("pk", "name")}
        for sink_id, values in data["sinks"].items():
            values["name"] = names.get(sink_id)
        for sink_id in names.keys() - data["sinks"].keys():
            data["sinks"][sink_id] = {"name": names[sink_id], "deliveries": 0, "failures": 0, "dlq": 0,
                                      "last_error": "", "last_error_at": None, "last_success_at": None,
                                      "lag": None}
        return Response(data)
