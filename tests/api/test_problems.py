"""Errors raised by the framework itself (routing, body size) as problem documents."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_method_not_allowed_lists_the_allowed_methods(client: FlaskClient) -> None:
    response = client.open("/tasks", method="TRACE")

    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "TRACE" not in allowed
