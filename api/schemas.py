"""What every resource's marshmallow schemas share, and how they read in the OpenAPI spec.

- schemas reject unknown fields, and `Meta.json_schema` adds the JSON Schema keywords
  marshmallow has no field option for (e.g. `minProperties`);
- timestamps are documented as RFC 3339 `date-time` (`Timestamp`);
- every error's body is a `ProblemSchema` (RFC 9457).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter

from api.storage import iso


class Schema(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


class Timestamp(ma.fields.Field[datetime]):
    """A UTC instant written as fixed-width RFC 3339, `2026-11-25T09:30:00.123456Z` (output only).

    Not a `fields.DateTime` with a custom format: apispec documents those with
    `format: null, pattern: null`, which is not a valid OpenAPI 3.1 schema.
    """

    def _serialize(
        self,
        value: datetime | None,
        attr: str | None,  # noqa: ARG002 (marshmallow's signature)
        obj: Any,  # noqa: ARG002
        **kwargs: Any,  # noqa: ARG002
    ) -> Any:
        return None if value is None else iso(value)


class ProblemSchema(Schema):
    type = ma.fields.String(metadata={"example": "urn:tasklake:problem:validation"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.Dict(
        metadata={"description": "Per-location, per-field messages for validation errors"}
    )


class SchemaConverter(OpenAPIConverter):
    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)  # type: ignore[no-untyped-call]
        jsonschema.update(getattr(getattr(schema, "Meta", None), "json_schema", {}))
        return jsonschema


class SchemaPlugin(MarshmallowPlugin):
    Converter = SchemaConverter
