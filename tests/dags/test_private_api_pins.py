"""Airflow's non-public API the DAG relies on, pinned (the API's own: tests/api/).

dags/tasks_daily.py casts a multiple-outputs task's result to `PlainXComArg`, from
`airflow.sdk.definitions`, which is not airflow.sdk's public surface: the public `XComArg`
declares no indexing, so only the concrete class types `plan["create_bronze"]`. These fail on an
Airflow upgrade; the last one fails the day the public class can replace it.
"""

from __future__ import annotations

import inspect
from importlib import metadata
from typing import cast

import pendulum
from airflow.sdk import XComArg, dag, task
from airflow.sdk.definitions.xcom_arg import PlainXComArg


def test_airflow_is_the_version_the_cast_was_checked_against() -> None:
    assert metadata.version("apache-airflow") == "3.3.1"


def test_a_multiple_outputs_task_returns_an_indexable_plain_xcom_arg() -> None:
    seen: list[object] = []

    @task(multiple_outputs=True)
    def plan() -> dict[str, str]:
        return {"create_bronze": "CREATE TABLE ..."}

    @dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"))
    def pins() -> None:
        result = cast(PlainXComArg, plan())  # as tasks_daily.py does: plan() is typed XComArg
        seen.extend([result, result["create_bronze"]])

    pins()
    result, item = seen
    assert type(result) is PlainXComArg
    assert issubclass(PlainXComArg, XComArg)
    assert list(inspect.signature(PlainXComArg.__getitem__).parameters) == ["self", "item"]
    assert isinstance(item, XComArg)
    assert item.key == "create_bronze"  # type: ignore[attr-defined]


def test_the_public_xcom_arg_still_declares_no_indexing() -> None:
    """When this fails, cast to airflow.sdk's XComArg in tasks_daily.py and drop the import."""
    assert "__getitem__" not in vars(XComArg)
