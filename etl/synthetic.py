"""Realistic synthetic tasks written as a DynamoDB export, for tests, seeding and the benchmark.

Run `python -m etl.synthetic --tasks 1000 --date 2026-11-25 --out .local/export` to make one.
`--user-ids sequential` or `skewed` gives the same tasks owned by ids that are not random UUIDs;
`--tags freeform` and `--giant-user-share` give the shapes that stress the transform's memory.
"""

import argparse
import gzip
import json
import random
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

TASKS_PER_USER = 40
HISTORY_DAYS = 180
STATUSES = ("todo", "in_progress", "done")
STATUS_WEIGHTS = (45, 20, 35)
PRIORITIES = ("low", "medium", "high")
PRIORITY_WEIGHTS = (30, 50, 20)
TAGS = (
    "home", "work", "errand", "health", "finance", "family", "shopping", "urgent", "someday",
    "reading", "travel", "garden", "car", "school", "fitness", "cooking", "bills", "call",
    "email", "meeting", "project-x", "kids", "pets", "music", "learning", "cleaning",
)  # fmt: skip
TITLE_VERBS = ("Buy", "Call", "Email", "Fix", "Book", "Pay", "Plan", "Write", "Clean", "Review")
TITLE_OBJECTS = (
    "milk", "the dentist", "mum", "the bike", "flights", "the rent", "the report", "the garage",
    "insurance", "a birthday gift", "the budget", "the slides", "groceries", "the plumber",
)  # fmt: skip
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# uuid: Cognito subs, random v4 UUIDs. sequential: ids counted up by a load test or an import,
# written as UUIDs that share a 31-character prefix. skewed: nine users in ten sequential, the
# rest random.
USER_ID_DISTRIBUTIONS = ("uuid", "sequential", "skewed")
# fixed: 0-3 of the 26 TAGS. freeform: up to 10 tags typed by users, from FREEFORM_TAGS distinct
# ones (in any case: "Work" and "work" are both typed), so a day holds hundreds of thousands.
TAG_VOCABULARIES = ("fixed", "freeform")
FREEFORM_TAGS = 300_000
MAX_TAGS = 10
# short: half the tasks have a one-line description. long: every task has one, of a realistic
# length, and one in ten is near the API's 5,000-character limit.
DESCRIPTION_LENGTHS = ("short", "long")
MAX_DESCRIPTION_CHARS = 5_000


@dataclass(frozen=True)
class SyntheticTask:
    user_id: str
    task_id: str
    title: str
    description: str | None
    status: str
    priority: str
    due_date: date | None
    tags: list[str] | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    version: int


def _ulid(rng: random.Random, at: datetime) -> str:
    value = (int(at.timestamp() * 1000) << 80) | rng.getrandbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _user_ids(rng: random.Random, count: int, distribution: str) -> list[str]:
    """`count` user ids; the n-th user is the same logical user whatever the distribution."""
    if distribution not in USER_ID_DISTRIBUTIONS:
        raise ValueError(f"user id distribution {distribution!r} not in {USER_ID_DISTRIBUTIONS}")
    # Drawn for every distribution, so the tasks that follow come out the same.
    random_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]
    if distribution == "uuid":
        return random_ids
    return [
        str(uuid.UUID(int=index)) if distribution == "sequential" or index % 10 else random_id
        for index, random_id in enumerate(random_ids)
    ]


def _tags(rng: random.Random, count: int, vocabulary: str) -> list[str] | None:
    if vocabulary == "freeform":
        count = rng.randint(0, MAX_TAGS)
    if not count:
        return None
    if vocabulary == "freeform":
        picked = (rng.randrange(FREEFORM_TAGS) for _ in range(count))
        typed = (f"{TAGS[n % len(TAGS)]}-{n // len(TAGS)}" for n in picked)
        return [tag.capitalize() if rng.random() < 0.2 else tag for tag in typed]
    return rng.sample(TAGS, count)


def _long_description(rng: random.Random) -> str:
    """Prose of a realistic length: most a few hundred characters, one in ten near the limit."""
    if rng.random() < 0.1:
        length = rng.randint(MAX_DESCRIPTION_CHARS - 500, MAX_DESCRIPTION_CHARS)
    else:
        length = min(MAX_DESCRIPTION_CHARS, 40 + int(rng.expovariate(1 / 400)))
    sentence = f"Remember to {rng.choice(TITLE_VERBS).lower()} {rng.choice(TITLE_OBJECTS)}. "
    return (sentence * (length // len(sentence) + 1))[:length]


def generate_tasks(
    count: int,
    snapshot_date: date,
    seed: int = 0,
    user_ids: str = "uuid",
    *,
    tags: str = "fixed",
    giant_user_share: float = 0.0,
    descriptions: str = "short",
) -> Iterator[SyntheticTask]:
    """`count` tasks of ~count/40 users, created in the 180 days up to the end of the snapshot.

    `user_ids` (one of USER_ID_DISTRIBUTIONS) changes the users' ids and nothing else. `tags` is
    one of TAG_VOCABULARIES; `giant_user_share` of the tasks go to the first user;
    `descriptions` one of DESCRIPTION_LENGTHS.
    """
    if tags not in TAG_VOCABULARIES:
        raise ValueError(f"tag vocabulary {tags!r} not in {TAG_VOCABULARIES}")
    if descriptions not in DESCRIPTION_LENGTHS:
        raise ValueError(f"descriptions {descriptions!r} not in {DESCRIPTION_LENGTHS}")
    if not 0.0 <= giant_user_share <= 1.0:
        raise ValueError(f"giant user share {giant_user_share} not between 0 and 1")
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    owners = _user_ids(rng, max(1, count // TASKS_PER_USER), user_ids)
    day_end = datetime.combine(snapshot_date + timedelta(days=1), time(), tzinfo=UTC)
    history_seconds = HISTORY_DAYS * 86_400
    for _ in range(count):
        created_at = day_end - timedelta(seconds=rng.random() * history_seconds)
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        completed_at = None
        if status == "done":
            hours = rng.expovariate(1 / 48)
            completed_at = min(created_at + timedelta(hours=hours), day_end - timedelta(seconds=1))
        last_change = completed_at or created_at
        updated_at = last_change + (day_end - last_change) * rng.random() * 0.1
        has_due_date = rng.random() < 0.7
        due_date = (
            (created_at + timedelta(days=rng.randint(-2, 30))).date() if has_due_date else None
        )
        tag_count = rng.choices((0, 1, 2, 3), (25, 40, 25, 10))[0]
        # Drawn only for a giant user, so the other exports stay as they were.
        to_giant = giant_user_share > 0 and rng.random() < giant_user_share
        yield SyntheticTask(
            user_id=owners[0] if to_giant else rng.choice(owners),
            task_id=_ulid(rng, created_at),
            title=f"{rng.choice(TITLE_VERBS)} {rng.choice(TITLE_OBJECTS)}",
            description=(
                _long_description(rng)
                if descriptions == "long"
                else (
                    f"Remember to {rng.choice(TITLE_VERBS).lower()} {rng.choice(TITLE_OBJECTS)} "
                    f"before {rng.choice(TITLE_OBJECTS)}."
                    if rng.random() < 0.5
                    else None
                )
            ),
            status=status,
            priority=rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0],
            due_date=due_date,
            tags=_tags(rng, tag_count, tags),
            created_at=created_at,
            updated_at=updated_at,
            completed_at=completed_at,
            version=rng.randint(1, 6),
        )


def format_timestamp(moment: datetime) -> str:
    """The API's timestamp format: ISO-8601 UTC with microseconds and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_dynamodb_item(task: SyntheticTask) -> dict[str, dict[str, Any]]:
    """The item as the tasks table stores it, absent optional attributes left out."""
    item: dict[str, dict[str, Any]] = {
        "user_id": {"S": task.user_id},
        "task_id": {"S": task.task_id},
        "title": {"S": task.title},
        "status": {"S": task.status},
        "priority": {"S": task.priority},
        "created_at": {"S": format_timestamp(task.created_at)},
        "updated_at": {"S": format_timestamp(task.updated_at)},
        "version": {"N": str(task.version)},
        "status_key": {"S": f"{task.user_id}#{task.status}"},
    }
    if task.description is not None:
        item["description"] = {"S": task.description}
    if task.due_date is not None:
        item["due_date"] = {"S": task.due_date.isoformat()}
    if task.tags is not None:
        item["tags"] = {"L": [{"S": tag} for tag in task.tags]}
    if task.completed_at is not None:
        item["completed_at"] = {"S": format_timestamp(task.completed_at)}
    return item


def write_export(
    items: Iterable[dict[str, dict[str, Any]]], export_dir: Path, file_count: int = 4
) -> list[Path]:
    """Write items round-robin into `export_dir/data/*.json.gz` like a DynamoDB export does."""
    data_dir = export_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = [data_dir / f"part-{index:05d}.json.gz" for index in range(file_count)]
    with ExitStack() as stack:
        outputs = [
            stack.enter_context(gzip.open(path, "wt", compresslevel=6, encoding="utf-8"))
            for path in paths
        ]
        for index, item in enumerate(items):
            outputs[index % file_count].write(json.dumps({"Item": item}) + "\n")
    return paths


def share(text: str) -> float:
    """An argparse type: a fraction between 0 and 1."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic DynamoDB export of tasks.")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 25))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--user-ids", choices=USER_ID_DISTRIBUTIONS, default="uuid")
    parser.add_argument("--tags", choices=TAG_VOCABULARIES, default="fixed")
    parser.add_argument("--giant-user-share", type=share, default=0.0, metavar="0..1")
    parser.add_argument("--descriptions", choices=DESCRIPTION_LENGTHS, default="short")
    args = parser.parse_args()
    tasks = generate_tasks(
        args.tasks,
        args.date,
        args.seed,
        args.user_ids,
        tags=args.tags,
        giant_user_share=args.giant_user_share,
        descriptions=args.descriptions,
    )
    paths = write_export((to_dynamodb_item(task) for task in tasks), args.out)
    print(f"wrote {args.tasks} tasks to {len(paths)} files under {args.out / 'data'}")


if __name__ == "__main__":
    main()
