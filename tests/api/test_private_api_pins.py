"""Every private or undocumented library API the project relies on, pinned.

Each has a comment at its use saying why no public API does the job. Private APIs change
without notice, so each test here asserts the pinned version and the shape and behaviour the
code relies on: an upgrade fails here first, with the place to re-check named, rather than
somewhere deep in a request. After re-checking (and moving to a public API where the new
version has one), move the version pin here and in requirements.in together (`make lock`).

None of these needs an engine: PynamoDB's iterators are driven by a stand-in Query operation
(a plain function returning pages as DynamoDB's API does), its connections are built without
a request, and flask-smorest's hooks are read from a spec made offline.
"""

from __future__ import annotations

import inspect
from importlib import metadata
from typing import Any

import flask_smorest
import pytest
from flask import Flask
from flask_jwt_extended import JWTManager, view_decorators
from flask_jwt_extended import utils as jwt_utils
from flask_smorest import etag as smorest_etag
from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection.table import TableConnection
from pynamodb.models import Model
from pynamodb.pagination import PageIterator, ResultIterator

from api.app import create_app
from api.auth.verified_tokens import VerifyingOnceJWTManager, unverified_header
from api.config import Settings
from api.problems import PROBLEM_CONTENT_TYPE
from api.smorest import Api, Blueprint, ItemVersion, SchemaPlugin


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


# --- flask-smorest (api/smorest.py) ---


def test_flask_smorest_is_the_version_its_private_hooks_were_checked_against() -> None:
    assert metadata.version("flask-smorest") == "0.47.0"


def test_generate_etag_is_the_static_hook_every_etag_goes_through() -> None:
    hook = inspect.getattr_static(flask_smorest.Blueprint, "_generate_etag")
    assert isinstance(hook, staticmethod)
    assert parameters(flask_smorest.Blueprint._generate_etag) == ["etag_data", "extra_data"]
    source = inspect.getsource(smorest_etag)
    assert "self._generate_etag(etag_data" in source
    # Ours answers a version with its tag and leaves any other data to flask-smorest's hash.
    assert Blueprint._generate_etag(ItemVersion(3)) == "v3"
    assert Blueprint._generate_etag({"a": 1}) == flask_smorest.Blueprint._generate_etag({"a": 1})


def test_the_etag_context_flag_is_what_silences_the_unchecked_etag_warning() -> None:
    assert parameters(smorest_etag._get_etag_ctx) == []
    source = inspect.getsource(smorest_etag)
    assert '_get_etag_ctx().get("etag_checked")' in source
    with Flask(__name__).test_request_context("/"):
        context = smorest_etag._get_etag_ctx()
        context["etag_checked"] = True
        assert smorest_etag._get_etag_ctx() is context


def test_the_plugin_and_timestamp_type_go_through_the_public_api() -> None:
    """`spec_kwargs` and `register_field`, not an override of the private `_init_spec`."""
    assert "_init_spec" not in vars(Api)
    app = create_app(Settings.from_env({"STAGE": "dev"}))
    spec = app.test_client().get("/openapi.json").get_json()
    task = spec["components"]["schemas"]["Task"]["properties"]
    assert task["created_at"] == {"type": "string", "format": "date-time"}
    assert (
        app.extensions["flask-smorest"]["apis"][""]["ext_obj"].ma_plugin.__class__ is SchemaPlugin
    )


def test_register_responses_is_the_hook_that_types_the_error_responses() -> None:
    assert parameters(flask_smorest.Api._register_responses) == ["self"]
    assert "self._register_responses()" in inspect.getsource(flask_smorest.Api._init_spec)
    app = create_app(Settings.from_env({"STAGE": "dev"}))
    spec = app.test_client().get("/openapi.json").get_json()
    responses = spec["components"]["responses"]
    assert set(responses["UNPROCESSABLE_ENTITY"]["content"]) == {PROBLEM_CONTENT_TYPE}
    assert set(responses["DEFAULT_ERROR"]["content"]) == {PROBLEM_CONTENT_TYPE}


# --- PynamoDB (api/storage.py) ---


def test_pynamodb_is_the_version_its_private_api_was_checked_against() -> None:
    assert metadata.version("pynamodb") == "6.1.0"


class Thing(Model):
    class Meta:
        table_name = "things-a"
        region = "us-east-1"

    key = UnicodeAttribute(hash_key=True)


def test_a_models_connection_is_cached_privately_and_rebuilt_once_dropped() -> None:
    """bind_tables renames a model's table, drops `_connection` and asks `_get_connection`."""
    assert inspect.getattr_static(Model, "_connection") is None
    assert isinstance(inspect.getattr_static(Model, "_get_connection"), classmethod)
    assert parameters(Thing._get_connection) == []
    first = Thing._get_connection()
    assert isinstance(first, TableConnection)
    assert Thing._connection is first
    assert Thing._get_connection() is first  # cached
    Thing.Meta.table_name = "things-b"
    Thing._connection = None
    second = Thing._get_connection()
    assert second is not first
    assert second.table_name == "things-b"
    assert second.connection is not None  # the shared Connection bind_tables re-classes


def query_pages(pages: list[dict[str, Any]]) -> tuple[list[Any], Any]:
    """A stand-in Query operation returning `pages` in turn, and the start keys it was sent."""
    sent: list[Any] = []

    def operation(*_args: Any, **kwargs: Any) -> dict[str, Any]:
        sent.append(kwargs.get("exclusive_start_key"))
        return pages[len(sent) - 1]

    return sent, operation


def test_page_iter_yields_one_raw_page_and_its_own_last_evaluated_key() -> None:
    first_key = {"id": {"S": "2"}}
    pages = [
        {
            "Items": [{"id": {"S": "1"}}, {"id": {"S": "2"}}],
            "ScannedCount": 2,
            "LastEvaluatedKey": first_key,
        },
        {"Items": [{"id": {"S": "3"}}], "ScannedCount": 1},
    ]
    sent, operation = query_pages(pages)
    results: ResultIterator[Any] = ResultIterator(operation, (), {"exclusive_start_key": None})
    assert isinstance(results.page_iter, PageIterator)
    assert next(results.page_iter) == pages[0]
    assert results.page_iter.last_evaluated_key == first_key
    assert sent == [None]  # one Query sent, nothing fetched ahead
    assert next(results.page_iter) == pages[1]
    assert results.page_iter.last_evaluated_key is None
    with pytest.raises(StopIteration):
        next(results.page_iter)
    assert sent == [None, first_key]


# --- pytest (tests/conftest.py marks each test from its fixtures' code) ---


def test_pytest_names_each_fixtures_function_in_fixtureinfo(
    request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    assert metadata.version("pytest") == "9.2.0"
    definitions = request.node._fixtureinfo.name2fixturedefs
    assert tmp_path.exists()
    assert definitions["tmp_path"][-1].func.__name__ == "tmp_path"


# --- flask-jwt-extended (api/auth/verified_tokens.py) ---


def test_flask_jwt_extended_is_the_version_its_decode_hook_was_checked_against() -> None:
    assert metadata.version("flask-jwt-extended") == "4.7.4"


def test_every_token_is_decoded_through_the_manager_method_we_override() -> None:
    assert parameters(JWTManager._decode_jwt_from_config) == [
        "self", "encoded_token", "csrf_value", "allow_expired",
    ]  # fmt: skip
    assert parameters(VerifyingOnceJWTManager._decode_jwt_from_config) == parameters(
        JWTManager._decode_jwt_from_config
    )
    # decode_token, which the view decorators call, reaches the manager through this method.
    assert "jwt_manager._decode_jwt_from_config(" in inspect.getsource(jwt_utils.decode_token)


def test_the_view_decorators_read_the_header_through_the_name_the_manager_replaces() -> None:
    source = inspect.getsource(view_decorators._decode_jwt_from_request)
    assert "jwt_header = get_unverified_jwt_headers(encoded_token)" in source
    VerifyingOnceJWTManager(Flask(__name__), trust_seconds=1, leeway=0)
    assert view_decorators.get_unverified_jwt_headers is unverified_header  # type: ignore[attr-defined]
