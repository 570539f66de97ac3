"""The application factory: `create_app()` builds the API; nothing runs at import."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from pynamodb.exceptions import PynamoDBException

from api import deadline, dependencies, upstream
from api.auth import routes as auth_routes
from api.auth.known_sign_ins import KnownSignIn
from api.auth.refresh_tokens import RefreshTokenBinding
from api.auth.revocation import Revocation
from api.auth.tokens import init_jwt
from api.config import Settings
from api.health import blp as health_blp
from api.idempotency import IdempotencyRecord
from api.observability import configure_logging, init_request_logging
from api.problems import ApiProblem, problem_response
from api.rate_limits import RateLimitCounter
from api.smorest import Api
from api.storage import bind_tables
from api.swagger_ui import ASSETS_URL
from api.swagger_ui import blp as swagger_ui_blp
from api.tasks import routes as task_routes
from api.tasks.models import Task
from api.users import routes as user_routes
from api.users.models import User
from api.version import __version__

log = logging.getLogger(__name__)


def tables(settings: Settings) -> list[tuple[type[Any], str]]:
    return [
        (Task, settings.tasks_table),
        (User, settings.users_table),
        (IdempotencyRecord, settings.idempotency_table),
        (Revocation, settings.revoked_tokens_table),
        (RateLimitCounter, settings.rate_limits_table),
        # The same table: short-lived abuse state (api/auth/refresh_tokens.py).
        (RefreshTokenBinding, settings.rate_limits_table),
        (KnownSignIn, settings.rate_limits_table),
    ]


def create_app(settings: Settings | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    bind_tables(tables(settings), settings.region)

    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE="tasklake",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=ASSETS_URL,
        API_SPEC_OPTIONS={
            "info": {"description": "To-do lists for humans, a data lake for analysts."},
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                        "description": "The access token alone: only `Authorization: Bearer"
                        " <JWT>` with one space is accepted, so a token pasted with a leading"
                        " space is refused (401)",
                    }
                }
            },
        },
    )
    app.config.update(config or {})
    dependencies.install(app.extensions, settings)

    init_request_logging(app, settings.stage)
    app.before_request(lambda: deadline.start(settings.request_deadline_seconds))

    @app.after_request
    def _no_sniffing(response: Response) -> Response:
        # Browsers must take JSON for JSON, whatever a hostile field value looks like.
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.after_request
    def _no_store_when_authenticated(response: Response) -> Response:
        # What a bearer token opens (profiles, tasks, user lists) is one person's data: no
        # shared or browser cache may keep it, and ETags still serve If-None-Match (304).
        if "Authorization" in request.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    init_jwt(app, settings)

    api = Api(app)
    for blueprint in (health_blp, auth_routes.blp, user_routes.blp, task_routes.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(swagger_ui_blp)

    @app.errorhandler(ApiProblem)
    def _problem(error: ApiProblem) -> Response:
        if error.status >= 500:
            # The one line for this failure: raisers don't log, the cause is in the trace.
            log.error("request failed", exc_info=error, extra={"problem": error.detail})
        elif error.status == 429 and error.__cause__ is not None:
            log.warning("upstream throttled", extra={"problem": error.detail})
        return error.to_response()

    @app.errorhandler(PynamoDBException)
    def _storage_failed(error: PynamoDBException) -> Response:
        # Expected outcomes (conditions, missing items) are handled where they happen;
        # what reaches here is DynamoDB itself failing: unreachable, throttled, erroring.
        problem = upstream.problem_for(error, "task store")
        cause = {"problem": problem.detail, "cause": upstream.error_code(error)}
        if problem.status >= 500:
            log.error("dynamodb call failed", exc_info=error, extra=cause)
        else:
            log.warning("dynamodb call throttled", extra=cause)
        return problem.to_response()

    @app.errorhandler(Exception)
    def _unexpected(_error: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(500, "An unexpected error occurred; it has been logged")

    return app
