"""What analysts see in infra/analytics.yaml: saved queries, column comments, and their docs.

`make query FILE=docs/queries/x.sql` runs the file on the local lake; Athena users pick the named
query of the same name. Both must be the same text, so neither copy can drift. Likewise the
column meanings in docs/analysts.md are the Glue column comments.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from etl.schemas import CATALOG_TABLES, LATEST_TABLES
from infra.cfn import INFRA, load_template

QUERIES = INFRA.parent / "docs" / "queries"
QUERY_FILES = sorted(QUERIES.glob("*.sql"))


def named_queries() -> dict[str, dict[str, Any]]:
    resources = load_template(INFRA / "analytics.yaml")["Resources"]
    return {
        r["Properties"]["Name"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Athena::NamedQuery"
    }


def test_every_query_file_is_a_named_query_and_nothing_else_is() -> None:
    assert QUERY_FILES, "no docs/queries/*.sql found"
    assert set(named_queries()) == {path.stem for path in QUERY_FILES}


@pytest.mark.parametrize("path", QUERY_FILES, ids=[path.stem for path in QUERY_FILES])
def test_named_query_text_is_the_file(path: Path) -> None:
    assert named_queries()[path.stem]["QueryString"] == path.read_text()


def test_the_glue_catalog_is_retained_when_its_stack_deletes_or_replaces_it() -> None:
    """Partitions are registered by the DAG, not the template: a replaced table would lose them."""
    resources = load_template(INFRA / "analytics.yaml")["Resources"]
    catalog = {
        logical_id: (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
        for logical_id, resource in resources.items()
        if resource["Type"] in {"AWS::Glue::Database", "AWS::Glue::Table"}
    }

    # The database, each lake table (lake_status included) and its `<table>_latest`.
    assert len(catalog) == 1 + len(CATALOG_TABLES) + len(LATEST_TABLES)
    assert set(catalog.values()) == {("RetainExceptOnCreate", "Retain")}


def glue_tables() -> dict[str, dict[str, Any]]:
    resources = load_template(INFRA / "analytics.yaml")["Resources"]
    return {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
        for r in resources.values()
        if r["Type"] == "AWS::Glue::Table"
    }


def column_comments(table: str) -> dict[str, str]:
    columns = glue_tables()[table]["StorageDescriptor"]["Columns"]
    return {column["Name"]: column.get("Comment", "") for column in columns}


@pytest.mark.parametrize("table", list(CATALOG_TABLES))
def test_every_column_says_what_it_means_in_the_catalog(table: str) -> None:
    """Athena's and Glue's consoles show these comments next to each column; an analyst reads
    there what a count includes without finding this repository."""
    comments = column_comments(table)

    assert set(comments) == set(CATALOG_TABLES[table].names)
    assert [name for name, comment in comments.items() if not comment.strip()] == []


@pytest.mark.parametrize("latest", list(LATEST_TABLES))
def test_a_latest_table_explains_its_columns_as_its_table_does(latest: str) -> None:
    assert column_comments(latest) == column_comments(LATEST_TABLES[latest])


def documented_columns() -> dict[str, dict[str, tuple[str, str]]]:
    """`docs/analysts.md`'s column tables: table -> column -> (type, meaning)."""
    tables: dict[str, dict[str, tuple[str, str]]] = {}
    current: dict[str, tuple[str, str]] = {}
    for line in (INFRA.parent / "docs" / "analysts.md").read_text().splitlines():
        if heading := re.fullmatch(r"### `(\w+)`", line):
            current = tables.setdefault(heading[1], {})
        elif row := re.fullmatch(r"\| `(\w+)` \| `([^`]+)` \| (.+) \|", line):
            current[row[1]] = (row[2], row[3])
    return tables


def test_the_analysts_page_describes_each_column_as_the_catalog_does() -> None:
    in_catalog = {
        table: {
            column["Name"]: (column["Type"], column["Comment"])
            for column in glue_tables()[table]["StorageDescriptor"]["Columns"]
        }
        for table in CATALOG_TABLES
    }

    assert documented_columns() == in_catalog


def test_every_workgroup_is_deleted_with_its_queries_and_history() -> None:
    """`make destroy` after `make smoke` must not leave the analytics stack DELETE_FAILED.

    RecursiveDeleteOption defaults to false, and then Athena refuses to delete a workgroup that
    holds named queries or query executions (the smoke's query, the DAG's CTAS):
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-athena-workgroup.html
    https://docs.aws.amazon.com/cli/v1/reference/athena/delete-work-group.html
    """
    resources = load_template(INFRA / "analytics.yaml")["Resources"]
    workgroups = {
        logical_id: resource["Properties"].get("RecursiveDeleteOption", False)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Athena::WorkGroup"
    }

    assert workgroups == {"AthenaWorkGroup": True, "EtlAthenaWorkGroup": True}
