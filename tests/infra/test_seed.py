"""The demo data generator makes tasks the API itself would accept, with coherent history."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from api.tasks.schemas import TaskCreateSchema
from infra.local.seed import plan_task


def test_planned_tasks_are_valid_and_their_timeline_is_coherent() -> None:
    rng = random.Random(1)
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    plans = [plan_task(rng, now, weeks=6) for _ in range(2000)]

    for plan in plans:
        TaskCreateSchema().load(plan.fields)  # raises if the API would refuse it
        assert now - timedelta(weeks=6) <= plan.created <= now
        if plan.completed:
            assert plan.created <= plan.completed <= now
        if plan.started:
            assert plan.created <= plan.started <= now
        assert not (plan.started and plan.completed)
        if "due_date" in plan.fields:
            assert plan.fields["due_date"] > plan.created.date().isoformat()

    done = sum(1 for plan in plans if plan.completed)
    assert 0.3 < done / len(plans) < 0.9  # a mix of open and finished work
    assert any(len(plan.fields["tags"]) > 1 for plan in plans)


def test_the_same_seed_gives_the_same_data() -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    first, second = random.Random(7), random.Random(7)
    assert [plan_task(first, now, 6) for _ in range(20)] == [
        plan_task(second, now, 6) for _ in range(20)
    ]
