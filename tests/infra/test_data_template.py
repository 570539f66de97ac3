"""infra/data.yaml declares each table exactly as its PynamoDB model defines it.

The expected definition is read from the model classes through PynamoDB's public surface
(`Model.get_attributes()`, the attributes' key flags and types, the index classes' `Meta`), so a
key, index or TTL attribute changed on either side fails here before a deploy does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from pynamodb.attributes import Attribute, TTLAttribute
from pynamodb.indexes import GlobalSecondaryIndex, Index, LocalSecondaryIndex
from pynamodb.models import Model

from api.app import tables
from api.config import Settings
from infra.cfn import INFRA, Tag, load_template

DEFAULTS = {"Project": "tasklake", "Environment": "dev"}
Keys = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TableDefinition:
    key_schema: Keys
    attribute_types: dict[str, str]
    indexes: dict[str, tuple[Keys, str, tuple[str, ...]]]
    """index name -> (key schema, projection type, projected non-key attributes)"""
    ttl_attribute: str | None


def _key_schema(attributes: list[Attribute[Any]]) -> Keys:
    hash_keys = [(a.attr_name, "HASH") for a in attributes if a.is_hash_key]
    range_keys = [(a.attr_name, "RANGE") for a in attributes if a.is_range_key]
    return tuple(hash_keys + range_keys)


def _index_attributes(index: Index[Any]) -> list[Attribute[Any]]:
    return [value for value in vars(type(index)).values() if isinstance(value, Attribute)]


def from_model(model: type[Model]) -> TableDefinition:
    attributes = list(model.get_attributes().values())
    indexes = [value for value in vars(model).values() if isinstance(value, Index)]
    assert not [i for i in indexes if isinstance(i, LocalSecondaryIndex)], "LSIs: extend this test"
    keyed = [a for a in attributes if a.is_hash_key or a.is_range_key]
    keyed += [a for index in indexes for a in _index_attributes(index)]
    return TableDefinition(
        key_schema=_key_schema(attributes),
        attribute_types={a.attr_name: a.attr_type for a in keyed},
        indexes={
            index.Meta.index_name: (
                _key_schema(_index_attributes(index)),
                index.Meta.projection.projection_type,
                tuple(sorted(index.Meta.projection.non_key_attributes or ())),
            )
            for index in indexes
            if isinstance(index, GlobalSecondaryIndex)
        },
        ttl_attribute=next((a.attr_name for a in attributes if isinstance(a, TTLAttribute)), None),
    )


def _keys(schema: list[dict[str, str]]) -> Keys:
    return tuple((key["AttributeName"], key["KeyType"]) for key in schema)


def from_template(properties: dict[str, Any]) -> TableDefinition:
    ttl = properties.get("TimeToLiveSpecification", {})
    return TableDefinition(
        key_schema=_keys(properties["KeySchema"]),
        attribute_types={
            a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]
        },
        indexes={
            gsi["IndexName"]: (
                _keys(gsi["KeySchema"]),
                gsi["Projection"]["ProjectionType"],
                tuple(sorted(gsi["Projection"].get("NonKeyAttributes", ()))),
            )
            for gsi in properties.get("GlobalSecondaryIndexes", [])
        },
        ttl_attribute=ttl["AttributeName"] if ttl.get("Enabled") else None,
    )


def _table_name(value: Tag) -> str:
    assert value.name == "Sub", value
    return re.sub(r"\$\{(\w+)\}", lambda m: DEFAULTS[m.group(1)], value.value)


def template_tables() -> dict[str, dict[str, Any]]:
    """Each AWS::DynamoDB::Table's properties by its name under the default parameters."""
    resources = load_template(INFRA / "data.yaml")["Resources"]
    return {
        _table_name(r["Properties"]["TableName"]): r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::DynamoDB::Table"
    }


# The tables the API binds its models to, named as the dev stage's settings name them.
BOUND = tables(Settings())


def test_the_template_holds_exactly_the_apis_tables() -> None:
    assert set(template_tables()) == {name for _, name in BOUND}


@pytest.mark.parametrize(("model", "table_name"), BOUND, ids=[name for _, name in BOUND])
def test_template_table_equals_its_model(model: type[Model], table_name: str) -> None:
    assert from_template(template_tables()[table_name]) == from_model(model)


def test_the_model_reading_sees_keys_indexes_and_ttl() -> None:
    """Guards the reader itself: an empty reading would make the comparison above vacuous."""
    tasks = from_model(BOUND[0][0])

    assert tasks.key_schema == (("user_id", "HASH"), ("task_id", "RANGE"))
    assert set(tasks.indexes) == {"status-index", "due-date-index"}
    assert from_model(BOUND[3][0]).ttl_attribute == "expires_at"
