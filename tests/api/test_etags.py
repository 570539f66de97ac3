"""If-Match values that name no version of the task: 412, never a crash."""

from __future__ import annotations

import pytest

from tests.api.conftest import Account


@pytest.mark.parametrize(
    "if_match",
    [
        '"", W/"Inf"',  # werkzeug reads `""` as no tag at all
        '"v²"',  # a Unicode digit: str.isdigit() says yes, int() says no
        '"v0001"',  # not byte-for-byte the tag the API sent (strong comparison)
        f'"v{"9" * 500}"',  # beyond a DynamoDB number
        'W/"v1"',  # weak tags never match If-Match (RFC 9110 §13.1.1)
    ],
)
def test_patch_with_an_if_match_naming_no_version_is_412(alice: Account, if_match: str) -> None:
    task = alice.create_task()

    response = alice.request(
        "PATCH", f"/tasks/{task['id']}", json={"title": "x"}, headers={"If-Match": if_match}
    )

    assert response.status_code == 412, response.json
    assert alice.request("GET", f"/tasks/{task['id']}").json["title"] == task["title"]


def test_delete_with_an_if_match_naming_no_version_is_412(alice: Account) -> None:
    task = alice.create_task()

    response = alice.request("DELETE", f"/tasks/{task['id']}", headers={"If-Match": '"v²"'})

    assert response.status_code == 412
    assert alice.request("GET", f"/tasks/{task['id']}").status_code == 200
