"""/tasks: a caller's own tasks. Each handler: validate → one storage call → respond."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import url_for
from flask.views import MethodView
from flask_jwt_extended import jwt_required

from api import dependencies, metrics
from api.auth import session_check
from api.auth.tokens import current_user_id
from api.etags import ItemVersion
from api.smorest import BEARER_AUTH, Blueprint
from api.tasks import service
from api.tasks.models import Task
from api.tasks.query_plan import TaskFilters
from api.tasks.schemas import (
    IdempotencyHeaderSchema,
    TaskCreateSchema,
    TaskListArgsSchema,
    TaskPageSchema,
    TaskPatchSchema,
    TaskSchema,
)

blp = Blueprint("tasks", __name__, url_prefix="/tasks", description="Your tasks")
# Argument schemas as instances: webargs builds a schema given as a class on every request
# (a deep copy of its fields, ~0.1 ms); these hold no per-request state.
LIST_ARGS = TaskListArgsSchema()
IDEMPOTENCY_HEADER = IdempotencyHeaderSchema()
CREATE_BODY = TaskCreateSchema()
PATCH_BODY = TaskPatchSchema()


def _respond_with_version(task: Task) -> Task:
    blp.set_etag(ItemVersion(task.version))
    return task


@blp.route("")
class Tasks(MethodView):
    decorators: ClassVar[list[Any]] = [jwt_required()]
    # Each method's DynamoDB call reads or conditions on the session's marks too.
    carries_session_check = True

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(LIST_ARGS, location="query")
    @blp.response(200, TaskPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List your tasks, newest first (by due date when filtering on it)"""
        user_id = current_user_id()
        filters = TaskFilters(
            status=args.get("status"),
            due_after=args.get("due_after"),
            due_before=args.get("due_before"),
            tag=args.get("tag"),
        )
        cursors = dependencies.cursors()
        scope = {"user": user_id, **filters.scope()}
        page = service.list_tasks(
            user_id,
            filters,
            limit=args["limit"],
            start_key=cursors.decode(args.get("cursor"), scope),
            session=session_check.take(),
        )
        return {"items": page.items, "next_cursor": cursors.encode(page.last_key, scope)}

    @blp.etag
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(IDEMPOTENCY_HEADER, location="headers")
    @blp.arguments(CREATE_BODY)
    @blp.response(201, TaskSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(
        409, description="The account holds MAX_TASKS_PER_USER tasks, or a twin request is running"
    )
    def post(
        self, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[Task, int, dict[str, str]]:
        """Create a task (send `Idempotency-Key` to make retries safe)"""
        settings = dependencies.settings()
        task, created = service.create_task(
            current_user_id(),
            body,
            idempotency_key=headers.get("idempotency_key"),
            idempotency_ttl=settings.idempotency_ttl_seconds,
            max_tasks=settings.max_tasks_per_user,
            session=session_check.take(),
        )
        response_headers = {"Location": url_for("tasks.TaskById", task_id=task.task_id)}
        if created:
            metrics.count(metrics.TASKS_CREATED)
        else:
            response_headers["Idempotent-Replayed"] = "true"
        return _respond_with_version(task), 201, response_headers


@blp.route("/<task_id:task_id>")
class TaskById(MethodView):
    decorators: ClassVar[list[Any]] = [jwt_required()]
    # Each method's one DynamoDB call reads or conditions on the session's marks too.
    carries_session_check = True

    @blp.etag
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, TaskSchema)
    def get(self, task_id: str) -> Task:
        """Get one task (send `If-None-Match` to get 304 when unchanged)"""
        task = service.get_task(current_user_id(), task_id, session=session_check.take())
        return _respond_with_version(task)

    @blp.etag
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PATCH_BODY)
    @blp.response(200, TaskSchema)
    def patch(self, changes: dict[str, Any], task_id: str) -> Task:
        """Change some fields of a task; `If-Match` with its ETag is required"""
        expected = blp.if_match_version(required=True)
        task = service.update_task(
            current_user_id(),
            task_id,
            changes,
            expected_version=expected,
            session=session_check.take(),
        )
        return _respond_with_version(task)

    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    @blp.alt_response(412, description="If-Match was sent and the task has changed since")
    def delete(self, task_id: str) -> None:
        """Delete a task (`If-Match` is honoured when sent)"""
        expected = blp.if_match_version(required=False)
        service.delete_task(
            current_user_id(), task_id, expected_version=expected, session=session_check.take()
        )
