"""`make run`'s stack: persistent across restarts, and nothing left behind when stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from infra.local.services import free_port
from infra.local.stack import ROOT

PASSWORD = "Correct-Horse-9"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def stack(state: Path, api_port: int, stop_signal: signal.Signals) -> Iterator[str]:
    env = {
        **os.environ,
        "LOCAL_STATE_DIR": str(state),
        "LOCAL_DYNAMODB_PORT": str(free_port()),
        "LOCAL_COGNITO_PORT": str(free_port()),
        "LOCAL_MOTO_PORT": str(free_port()),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.stack", "run", "--port", str(api_port)],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group, like a terminal's job
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, "the stack exited during start-up"
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the API did not come up within 90 s"
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, stop_signal)
        process.wait(30)
        deadline = time.monotonic() + 15
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        leftover = _group_alive(process.pid)
        if leftover:
            os.killpg(process.pid, signal.SIGKILL)
        assert not leftover, "processes of the stack outlived it"


def test_data_survives_a_restart_and_stopping_leaves_no_processes(tmp_path: Path) -> None:
    api_port = free_port()
    email = "persistent@example.com"

    # SIGTERM to the process group, as a supervisor would; then Ctrl-C's SIGINT.
    with stack(tmp_path, api_port, signal.SIGTERM) as url:
        created = requests.post(
            f"{url}/users", json={"email": email, "password": PASSWORD, "name": "P"}, timeout=10
        )
        assert created.status_code == 201
        token = requests.post(
            f"{url}/auth/token", json={"email": email, "password": PASSWORD}, timeout=10
        ).json()["access_token"]
        task = requests.post(
            f"{url}/tasks",
            json={"title": "survive a restart"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert task.status_code == 201

    with stack(tmp_path, api_port, signal.SIGINT) as url:
        login = requests.post(
            f"{url}/auth/token", json={"email": email, "password": PASSWORD}, timeout=10
        )
        assert login.status_code == 200
        tasks = requests.get(
            f"{url}/tasks",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            timeout=10,
        ).json()["items"]
        assert [item["title"] for item in tasks] == ["survive a restart"]
