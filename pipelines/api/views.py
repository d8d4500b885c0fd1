"""Pipeline API: read and replace the project's one pipeline."""

from __future__ import annotations

from django.db import transaction
from rest_framework import generics

from pipelines.api.serializers import PipelineSerializer
from pipelines.models import Pipeline
from projects.api.views import ProjectScoped
from projects.configsync import config_changed


class PipelineView(ProjectScoped, generics.RetrieveUpdateAPIView):
    serializer_class = PipelineSerializer

    def get_object(self) -> Pipeline:
        pipeline, _ = Pipeline.objects.get_or_create(project=self.project)
        return pipeline

    def perform_update(self, serializer):
        with transaction.atomic():
            serializer.save()
            config_changed(self.project)
