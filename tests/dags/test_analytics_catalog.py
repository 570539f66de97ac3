"""The CloudFormation template is the one definition of the lake tables, and matches etl.schemas."""

from typing import Any

import pytest

from etl.schemas import CATALOG_TABLES, LATEST_TABLES, PARTITION_KEYS, glue_columns
from infra.local.analytics_catalog import load_template
from tests.dags.local_stack import LocalStack

TAGS = {"Project", "Owner", "Environment", "CostCenter"}


def _glue_tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["TableInput"]["Name"]: resource["Properties"]["TableInput"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Glue::Table"
    }


def test_template_declares_each_lake_table_and_its_latest_snapshot() -> None:
    assert set(_glue_tables(load_template())) == set(CATALOG_TABLES) | set(LATEST_TABLES)


@pytest.mark.parametrize("latest", sorted(LATEST_TABLES))
def test_latest_table_has_the_columns_of_its_table_and_no_partitions(latest: str) -> None:
    tables = _glue_tables(load_template())
    table_input, source = tables[latest], tables[LATEST_TABLES[latest]]

    assert table_input["StorageDescriptor"]["Columns"] == source["StorageDescriptor"]["Columns"]
    assert "PartitionKeys" not in table_input
    for key in ("InputFormat", "OutputFormat", "SerdeInfo"):
        assert table_input["StorageDescriptor"][key] == source["StorageDescriptor"][key]


@pytest.mark.parametrize("table", sorted(CATALOG_TABLES))
def test_glue_columns_equal_the_transform_schema(table: str) -> None:
    table_input = _glue_tables(load_template())[table]
    descriptor = table_input["StorageDescriptor"]

    columns = [(column["Name"], column["Type"]) for column in descriptor["Columns"]]
    partition_keys = [(key["Name"], key["Type"]) for key in table_input["PartitionKeys"]]

    assert columns == glue_columns(table)
    assert partition_keys == PARTITION_KEYS
    assert descriptor["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")


def test_data_is_retained_and_tagged() -> None:
    resources = load_template()["Resources"]
    bucket = next(r for r in resources.values() if r["Type"] == "AWS::S3::Bucket")

    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
    assert {tag["Key"] for tag in bucket["Properties"]["Tags"]} == TAGS
    assert all(
        (r["DeletionPolicy"], r["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
        for r in resources.values()
        if r["Type"] in {"AWS::Glue::Database", "AWS::Glue::Table"}
    )


def test_local_catalog_is_built_from_the_template(local_stack: LocalStack) -> None:
    glue = local_stack.client("glue")
    tables = glue.get_tables(DatabaseName=local_stack.database)["TableList"]

    assert local_stack.database == "tasklake_dev"
    assert {
        table["Name"]: [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
        for table in tables
    } == {
        name: glue_columns(LATEST_TABLES.get(name, name))
        for name in [*CATALOG_TABLES, *LATEST_TABLES]
    }
    assert all(
        table["StorageDescriptor"]["Location"].startswith("s3://tasklake-test-lake/")
        for table in tables
    )
