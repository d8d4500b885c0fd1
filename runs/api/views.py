"""Run history API: viewers read, admins replay (tenancy via ProjectScoped, as for dead letters).

Read from JetStream through the NATS bridge; when NATS cannot be reached the answer is 503
with a message saying so, never an empty list that looks like success.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.api.jetstream import call
from projects.api.views import ProjectScoped
from runs import store
from runs.api.serializers import RunListQuerySerializer


class RunListView(ProjectScoped, APIView):
    @extend_schema(operation_id="projects_runs_list", parameters=[RunListQuerySerializer], responses={200: dict})
    def get(self, request, project_id):
        query = RunListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params, project_id = query.validated_data, self.project.pk
        page = call(lambda js: store.list_runs(js, project_id, status=params.get("status"), limit=params["limit"],
                                               cursor=params.get("cursor")))
        return Response({"results": page.items, "next_cursor": page.next_cursor})


class RunDetailView(ProjectScoped, APIView):
    @extend_schema(operation_id="projects_runs_retrieve", responses={200: dict})
    def get(self, request, project_id, request_id):
        project_id = self.project.pk
        return Response(call(lambda js: store.get_run(js, project_id, request_id), missing=(store.RunNotFound,)))


class RunReplayView(ProjectScoped, APIView):
    @extend_schema(operation_id="projects_runs_replay", request=None, responses={200: dict})
    def post(self, request, project_id, request_id):
        project_id = self.project.pk
        try:
            sent = call(lambda js: store.replay_run(js, project_id, request_id), missing=(store.RunNotFound,))
        except store.ReplayError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({"replayed": sent})
