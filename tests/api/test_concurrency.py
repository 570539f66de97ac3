"""Optimistic locking: of writers holding the same ETag, exactly one wins."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from tests.api.conftest import Account


def test_eight_concurrent_patches_with_one_etag_yield_one_winner(
    app: Flask, alice: Account
) -> None:
    task = alice.create_task(title="contended")
    path = f"/tasks/{task['id']}"

    def patch(n: int) -> tuple[int, str]:
        # One client per thread: the test client is not meant to be shared.
        response = app.test_client().patch(
            path, json={"title": f"writer {n}"}, headers={**alice.auth, "If-Match": '"v1"'}
        )
        return response.status_code, f"writer {n}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(patch, range(8)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [412] * 7
    winner = next(title for status, title in results if status == 200)
    stored = alice.request("GET", path)
    assert stored.json["title"] == winner  # the winner's write, nothing lost or mixed
    assert stored.headers["ETag"] == '"v2"'


def test_concurrent_creates_with_one_idempotency_key_make_one_task(
    app: Flask, alice: Account
) -> None:
    def create(_: int) -> tuple[int, str | None]:
        response = app.test_client().post(
            "/tasks",
            json={"title": "only once"},
            headers={**alice.auth, "Idempotency-Key": "burst-1"},
        )
        return response.status_code, (response.json or {}).get("id")

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(create, range(6)))

    ids = {task_id for status, task_id in results if status == 201}
    assert len(ids) == 1
    # Losers either replay the winner (201) or are told to retry (409), never a duplicate.
    assert {status for status, _ in results} <= {201, 409}
    titles = [item["title"] for item in alice.request("GET", "/tasks").json["items"]]
    assert titles.count("only once") == 1


def test_concurrent_patches_with_if_match_star_all_succeed(app: Flask, alice: Account) -> None:
    """`*` means any version: no writer may lose to a version it never named."""
    task = alice.create_task(title="anyone")
    path = f"/tasks/{task['id']}"

    def patch(n: int) -> int:
        response = app.test_client().patch(
            path, json={"title": f"writer {n}"}, headers={**alice.auth, "If-Match": "*"}
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(patch, range(8)))

    assert statuses == [200] * 8
    assert alice.request("GET", path).headers["ETag"] == '"v9"'  # every write counted
