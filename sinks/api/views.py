"""Sinks API: CRUD of a project's sinks (every kind of sinks/kinds/), and the "send test message" action."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.api.views import ProjectScoped
from projects.configsync import config_changed
from sinks.api.serializers import SinkSerializer
from sinks.sendtest import send_test_message
from sinks.status import live_status, merge_status


class SinkQueryMixin(ProjectScoped):
    serializer_class = SinkSerializer
    lookup_url_kwarg = "sink_id"

    def get_queryset(self):
        return self.project.sinks.order_by("created_at")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "project": self.project}

    def perform_create(self, serializer):
        with transaction.atomic():
            serializer.save(project=self.project)
            config_changed(self.project)

    def perform_update(self, serializer):
        with transaction.atomic():
            serializer.save()
            config_changed(self.project)

    def perform_destroy(self, instance):
        with transaction.atomic():
            instance.delete()
            config_changed(self.project)


class SinkListView(SinkQueryMixin, generics.ListCreateAPIView):
    pagination_class = None

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        status = live_status(self.project.pk) if response.data else {}
        response.data = [merge_status(item, status.get(str(item["id"]))) for item in response.data]
        return response


class SinkDetailView(SinkQueryMixin, generics.RetrieveUpdateDestroyAPIView):
    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response.data = merge_status(response.data, live_status(self.project.pk).get(str(response.data["id"])))
        return response


class SinkTestView(ProjectScoped, APIView):
    """Send a sample output message through the sink's transport now (one attempt, no retries)."""

    @extend_schema(request=None, responses=inline_serializer("SinkTestResult", {
        "ok": serializers.BooleanField(), "error": serializers.CharField(required=False)}))
    def post(self, request, project_id, sink_id):
        sink = get_object_or_404(self.project.sinks, pk=sink_id)
        error = send_test_message(sink)
        return Response({"ok": True} if error is None else {"ok": False, "error": error})
