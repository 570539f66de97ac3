"""Fill the running local stack with believable users and tasks spread over past weeks.

    python -m infra.local.seed --users 50 --tasks 5000 [--weeks 6] [--seed 7]

Goes through the API's own code path: the request schemas validate every task, and
the same service functions the endpoints call write them (with back-dated clocks, so
the data lake and its insights have history to show). Seeded users can sign in with
SEED_PASSWORD.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from api.app import create_app
from api.auth.identity import IdentityProvider
from api.config import Settings
from api.problems import Conflict
from api.tasks.schemas import TaskCreateSchema
from api.tasks.service import create_task, update_task
from api.users.models import USER_KIND, User
from api.users.service import register
from infra.local.progress import Progress
from infra.local.stack import StackError, load_running_environment

SEED_PASSWORD = "Seeded-Passw0rd"  # noqa: S105 - a documented demo password
TAGS = (
    "work", "home", "errand", "health", "finance", "reading", "urgent", "family",
    "garden", "travel", "study", "car", "shopping", "admin", "fitness",
)  # fmt: skip
TITLES = (
    "Call the dentist", "Buy groceries", "Write the quarterly report", "Fix the bike brakes",
    "Review the pull request", "Plan the team offsite", "Book flights to Lisbon",
    "Clean the garage", "Pay the electricity bill", "Read the DynamoDB paper",
    "Renew the car insurance", "Water the tomatoes", "File the expense claims",
    "Prepare the slides", "Go for a 5 km run", "Call mum", "Return the library books",
)  # fmt: skip


@dataclass(frozen=True)
class TaskPlan:
    created: datetime
    fields: dict[str, Any]
    started: datetime | None
    completed: datetime | None


def plan_task(rng: random.Random, now: datetime, weeks: int) -> TaskPlan:
    created = now - timedelta(seconds=rng.uniform(0, weeks * 7 * 86400))
    fields: dict[str, Any] = {
        "title": rng.choice(TITLES),
        "priority": rng.choices(("low", "medium", "high"), weights=(3, 5, 2))[0],
        "tags": rng.sample(TAGS, k=rng.choices((0, 1, 2, 3), weights=(2, 4, 3, 1))[0]),
    }
    if rng.random() < 0.3:
        fields["description"] = "Seeded task; details would go here."
    if rng.random() < 0.7:
        fields["due_date"] = (created + timedelta(days=rng.randint(1, 21))).date().isoformat()

    # Roughly: most old tasks are done, recent ones still open; completion takes hours to days.
    age_days = (now - created).days
    outcome = rng.random()
    completed = started = None
    if outcome < min(0.85, 0.25 + age_days * 0.03):
        completed = min(now, created + timedelta(hours=rng.lognormvariate(3.3, 1.0)))
    elif outcome < 0.95:
        started = min(now, created + timedelta(hours=rng.uniform(1, 48)))
    return TaskPlan(created, fields, started, completed)


def _accounts(identity: IdentityProvider, count: int) -> Iterator[str]:
    for n in Progress("users", count).track(range(count)):
        email = f"seed-user-{n:03d}@example.com"
        try:
            yield register(identity, email, SEED_PASSWORD, f"Seed User {n}").user_id
        except Conflict:
            yield next(iter(User.directory.query(USER_KIND, User.email == email))).user_id


def seed(users: int, tasks: int, weeks: int, seed_value: int) -> str:
    os.environ.update(load_running_environment())
    settings = Settings.from_env()
    rng = random.Random(seed_value)  # noqa: S311 - repeatable demo data, not secrets
    now = datetime.now(UTC)
    schema = TaskCreateSchema()
    with create_app(settings).app_context():
        user_ids = list(_accounts(IdentityProvider(settings), users))
        for _ in Progress("tasks", tasks).track(range(tasks)):
            plan = plan_task(rng, now, weeks)
            user_id = rng.choice(user_ids)
            task, _ = create_task(user_id, schema.load(plan.fields), now=plan.created)
            if plan.started:
                update_task(
                    user_id, task.task_id, {"status": "in_progress"},
                    expected_version=task.version, now=plan.started,
                )  # fmt: skip
            elif plan.completed:
                update_task(
                    user_id, task.task_id, {"status": "done"},
                    expected_version=task.version, now=plan.completed,
                )  # fmt: skip
    return f"seeded {tasks} tasks for {users} users (password {SEED_PASSWORD})"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.seed")
    parser.add_argument("--users", type=_positive, default=50)
    parser.add_argument("--tasks", type=_positive, default=5000)
    parser.add_argument("--weeks", type=_positive, default=6)
    parser.add_argument("--seed", type=int, default=7, help="random seed, for repeatable data")
    args = parser.parse_args(argv)
    try:
        print(seed(args.users, args.tasks, args.weeks, args.seed))
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
