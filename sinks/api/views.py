"""Sinks API: CRUD of a project's webhook and Slack sinks."""

from __future__ import annotations

from django.db import transaction
from rest_framework import generics

from projects.api.views import ProjectScoped
from projects.configsync import config_changed
from sinks.api.serializers import SinkSerializer


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


class SinkDetailView(SinkQueryMixin, generics.RetrieveUpdateDestroyAPIView):
    pass
