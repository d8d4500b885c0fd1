"""Dead letters and statistics API: viewers read, admins replay and discard (tenancy via ProjectScoped).

Everything is read from JetStream through the NATS bridge; when NATS cannot be reached the
answer is 503 with a message saying so, never a stale or empty list that looks like success.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from deadletters import store
from deadletters.api.serializers import BulkResultSerializer, BulkSerializer, ListQuerySerializer
from projects import figures
from projects.api.views import ProjectScoped
from projects.natsbridge import NatsRejected, NatsUnavailable, bridge

BULK_TIMEOUT = 120.0


class NatsDown(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "NATS is unreachable, so dead letters and statistics cannot be read right now; try again shortly."
    default_code = "nats_unavailable"


def call(operation, timeout: float | None = None):
    """Run a JetStream operation: refused requests are the caller's 4xx, unavailability is 503."""
    try:
        return bridge.call(operation, timeout=timeout)
    except NatsRejected as exc:
        if exc.status == 404:
            raise NotFound(f"Not found: {exc.description}.") from None
        raise ValidationError({"detail": f"JetStream refused the request: {exc.description}."}) from None
    except NatsUnavailable as exc:
        raise NatsDown(f"{NatsDown.default_detail} ({exc})") from None


class DeadLetterBase(ProjectScoped, APIView):
    def replayable_sinks(self) -> set[str]:
        return {str(pk) for pk in self.project.sinks.filter(enabled=True).values_list("pk", flat=True)}

    def check_replayable(self, entry: dict, sinks: set[str]) -> None:
        if entry.get("stage") == "sink" and str(entry.get("sinkId")) not in sinks:
            raise store.ReplayError("the sink of this entry no longer exists or is disabled; "
                                    "enable it (or discard the entry) first")


class DeadLetterListView(DeadLetterBase):
    @extend_schema(operation_id="projects_deadletters_list", parameters=[ListQuerySerializer], responses={200: dict})
    def get(self, request, project_id):
        query = ListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params, project_id = query.validated_data, self.project.pk
        page = call(lambda js: store.list_entries(js, project_id, stage=params.get("stage"),
                                                  limit=params["limit"], cursor=params.get("cursor")))
        return Response({"results": page.items, "next_cursor": page.next_cursor})


class DeadLetterDetailView(DeadLetterBase):
    @extend_schema(responses={200: dict})
    def get(self, request, project_id, seq):
        project_id = self.project.pk
        try:
            return Response(call(lambda js: store.get_entry(js, project_id, seq)))
        except store.EntryNotFound as exc:
            raise NotFound(str(exc)) from None

    @extend_schema(responses={204: None})
    def delete(self, request, project_id, seq):
        project_id = self.project.pk
        try:
            call(lambda js: store.delete_entry(js, project_id, seq))
        except store.EntryNotFound as exc:
            raise NotFound(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeadLetterReplayView(DeadLetterBase):
    @extend_schema(request=None, responses={200: dict})
    def post(self, request, project_id, seq):
        project_id, sinks = self.project.pk, self.replayable_sinks()

        async def replay(js) -> int:
            entry = await store.get_entry(js, project_id, seq)
            self.check_replayable(entry, sinks)
            return await store.replay_entry(js, project_id, entry)

        try:
            sent = call(replay)
        except store.EntryNotFound as exc:
            raise NotFound(str(exc)) from None
        except store.ReplayError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({"replayed": 1, "messages": sent})


class DeadLetterBulkReplayView(DeadLetterBase):
    @extend_schema(operation_id="projects_deadletters_bulk_replay", request=BulkSerializer,
                   responses={200: BulkResultSerializer})
    def post(self, request, project_id):
        body = BulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params, project_id, sinks = body.validated_data, self.project.pk, self.replayable_sinks()

        async def replay_many(js) -> dict:
            sequences = params["seqs"] if params.get("seqs") else await store.all_sequences(
                js, project_id, params.get("stage"))
            done, failed = 0, []
            for seq in sequences:
                try:
                    entry = await store.get_entry(js, project_id, seq)
                    self.check_replayable(entry, sinks)
                    await store.replay_entry(js, project_id, entry)
                    done += 1
                except (store.EntryNotFound, store.ReplayError) as exc:
                    failed.append({"seq": seq, "error": str(exc)})
            return {"done": done, "failed": failed}

        return Response(call(replay_many, timeout=BULK_TIMEOUT))


class DeadLetterBulkDiscardView(DeadLetterBase):
    @extend_schema(operation_id="projects_deadletters_bulk_discard", request=BulkSerializer,
                   responses={200: BulkResultSerializer})
    def post(self, request, project_id):
        body = BulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params, project_id = body.validated_data, self.project.pk

        async def discard_many(js) -> dict:
            if params.get("all"):
                return {"done": await store.discard_all(js, project_id, params.get("stage")), "failed": []}
            done, failed = 0, []
            for seq in params["seqs"]:
                try:
                    await store.delete_entry(js, project_id, seq)
                    done += 1
                except store.EntryNotFound as exc:
                    failed.append({"seq": seq, "error": str(exc)})
            return {"done": done, "failed": failed}

        return Response(call(discard_many, timeout=BULK_TIMEOUT))


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

