"""Cold start of the packaged handler vs a Flask hello-world packaged the same way.

Each run is a fresh interpreter over the extracted zip (see infra/package/runtime.py):
import of `handler` + the first request, with the stage's own environment pointed
at DynamoDB Local and cognito-local, started here on free ports. The targets:

- `hello-world`: built by the same Zappa, settings and exclusions, with Flask as
  its only requirement (`make bench-cold` builds both);
- `floor`: our zip with its app swapped for a hello-world that only imports the
  libraries tasklake cannot do without (FLOOR_APP); `floor-nogc` loads them the
  way `api.wsgi` loads the app, without cyclic GC: the best any app on this
  stack could do;
- `tasklake` (`GET /openapi.json`), `tasklake-401` (`GET /tasks`, no token);
- `tasklake-auth`: `GET /tasks` with a valid Bearer token, so the signature check
  (JWKS fetched from cognito-local), the revocation lookup and the query all run:
  work deferred out of the import shows up here instead of disappearing;
- `…-snapstart`: as prod runs with SnapStart: the app built at import
  (`INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT`) and the before-snapshot hooks run at init, by a
  stand-in for the runtime's `snapshot_restore_py` (SNAPSHOT_RUNTIME). The init is in the
  snapshot; its first request is what a restored container's first user waits for.

    python -m tests.bench.cold_start --package build/tasklake-dev.zip --hello build/hello-world.zip
    python -m tests.bench.cold_start --write-hello-project build/hello-world-src
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.app import create_app
from api.config import Settings
from infra.local import services
from infra.local.stack import api_environment, ensure_user_pool, provision
from infra.package import runtime
from infra.package.artifact import RUNTIME

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "zappa_settings.json"
HELLO_APP = '''"""The smallest Flask app: the baseline for cold starts."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> dict[str, str]:
    return {"hello": "world"}
'''
# What tasklake must load whatever it does: the web stack, schemas, token checks, storage.
FLOOR_APP = '''"""Hello-world importing the libraries tasklake is built on: the cold-start floor."""

import flask_jwt_extended
import flask_smorest
import marshmallow
import pynamodb.models
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> dict[str, str]:
    return {"hello": "world"}
'''
FLOOR_APP_NO_GC = '''"""The floor, loaded like api.wsgi loads the app: no cyclic GC meanwhile."""

import gc

gc.disable()
try:
    from floor_app import app
finally:
    gc.freeze()
    gc.enable()
'''
FLOOR_MODULES = {"floor_app": FLOOR_APP, "floor_app_no_gc": FLOOR_APP_NO_GC}
# Lambda runs before-snapshot hooks once init is done; ours registers its one hook last thing
# in init (api/wsgi.py), so running it on registration is the same order.
SNAPSHOT_RUNTIME = '''"""Stand-in for the Lambda runtime's snapshot_restore_py (the bench's)."""


def register_before_snapshot(func, *args, **kwargs):
    func(*args, **kwargs)


def register_after_restore(func, *args, **kwargs):
    pass
'''
PASSWORD = "Bench-Mark-2026"


@dataclass(frozen=True)
class Target:
    name: str
    package: Path
    path: str
    status: int
    authenticated: bool = False
    # Serve this module of the package instead of its own app (the floor).
    app_module: str | None = None
    snapstart: bool = False

    @property
    def root_name(self) -> str:
        snapshot = "-snapstart" if self.snapstart else ""
        return f"{self.package.stem}-{self.app_module or 'app'}{snapshot}"


@dataclass(frozen=True)
class ColdStart:
    import_ms: float
    first_request_ms: float

    @property
    def total_ms(self) -> float:
        return self.import_ms + self.first_request_ms


def write_hello_project(folder: Path) -> None:
    """hello.py plus our zappa_settings.json pointed at it: same Zappa, same exclusions."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.py").write_text(HELLO_APP)
    stages = json.loads(SETTINGS_FILE.read_text())
    stages["dev"].update(app_function="hello.app", project_name="hello-world")
    # Deploy-time hooks name modules of this repository, which the folder does not hold;
    # packaging needs none of them.
    stages["dev"].pop("callbacks", None)
    (folder / "zappa_settings.json").write_text(json.dumps({"dev": stages["dev"]}, indent=4))


def task_root(target: Target, work: Path) -> Path:
    """The extracted zip; for `app_module`, with Zappa's settings pointed at that module."""
    root = runtime.extract(target.package, work / target.root_name)
    if target.snapstart:
        (root / "snapshot_restore_py.py").write_text(SNAPSHOT_RUNTIME)
    if target.app_module:
        for module, source in FLOOR_MODULES.items():
            (root / f"{module}.py").write_text(source)
        settings = root / "zappa_settings.py"
        lines = settings.read_text().splitlines()
        lines = [
            f"APP_MODULE={target.app_module!r}" if line.startswith("APP_MODULE=") else line
            for line in lines
        ]
        settings.write_text("\n".join(lines) + "\n")
        # Its shipped bytecode is unchecked-hash: it would win over the edited source.
        (root / "__pycache__" / "zappa_settings.cpython-{}{}.pyc".format(*RUNTIME)).unlink()
    return root


@contextmanager
def local_engines(work: Path) -> Iterator[tuple[dict[str, str], str]]:
    """DynamoDB Local + cognito-local with one signed-in user owning one task.

    Yields the API's environment and that user's access token.
    """
    dynamodb = services.start_dynamodb(services.free_port(), None, log_path=work / "dynamodb.log")
    try:
        cognito = services.start_cognito(
            services.free_port(), work / "cognito", log_path=work / "cognito.log"
        )
        try:
            pool_id, client_id = ensure_user_pool(cognito.url)
            environment = api_environment(
                dynamodb.url, cognito.url, pool_id, client_id, cursor_secret="bench-cursor-secret"
            )
            provision(environment)
            settings = Settings.from_env({**environment, "LOG_LEVEL": "WARNING"})
            client = create_app(settings).test_client()
            account = {"email": "bench@example.com", "password": PASSWORD}
            client.post("/users", json={**account, "name": "Bench"})
            token = client.post("/auth/token", json=account).get_json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            created = client.post("/tasks", json={"title": "measure it"}, headers=headers)
            if created.status_code != 201:
                raise SystemExit(f"could not seed the engines: {created.get_json()}")
            yield environment, token
        finally:
            cognito.stop()
    finally:
        dynamodb.stop()


def cold_start(
    target: Target, root: Path, work: Path, environment: dict[str, str], token: str
) -> ColdStart:
    """One fresh process: import the handler, answer the first request."""
    log_path = work / f"{target.name}.log"
    headers = {"Authorization": f"Bearer {token}"} if target.authenticated else None
    if target.snapstart:
        environment = {**environment, "INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true"}
    with runtime.LambdaProcess(root, work / "sdk", environment, log_path) as process:
        event = runtime.gateway_event(
            "GET", target.path, stage=environment["STAGE"], headers=headers
        )
        response, seconds = process.invoke(event, "bench")
        if response["statusCode"] != target.status:
            raise SystemExit(
                f"{target.name}: {target.path} gave {response['statusCode']}: {response['body']}"
            )
        return ColdStart(process.import_seconds * 1000, seconds * 1000)


def measure(targets: list[Target], stage: str, work: Path, runs: int) -> dict[str, ColdStart]:
    """Median per target; runs are interleaved so machine noise hits every target alike."""
    runtime.provide_sdk(work / "sdk")
    roots = {target.root_name: task_root(target, work) for target in targets}
    samples: dict[str, list[ColdStart]] = {target.name: [] for target in targets}
    with local_engines(work) as (engines, token):
        environment = {**runtime.stage_environment(SETTINGS_FILE, stage), **engines}
        for _run in range(runs):
            for target in targets:
                root = roots[target.root_name]
                samples[target.name].append(cold_start(target, root, work, environment, token))
    return {
        name: ColdStart(
            statistics.median(run.import_ms for run in runs_),
            statistics.median(run.first_request_ms for run in runs_),
        )
        for name, runs_ in samples.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.cold_start")
    parser.add_argument("--package", type=Path, default=ROOT / "build" / "tasklake-dev.zip")
    parser.add_argument("--hello", type=Path, default=ROOT / "build" / "hello-world.zip")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write-hello-project", type=Path, metavar="FOLDER")
    args = parser.parse_args(argv)
    if args.write_hello_project:
        write_hello_project(args.write_hello_project)
        return 0
    if args.runs < 5:
        parser.error("--runs must be at least 5 for a median worth reading")

    targets = [
        Target("hello-world", args.hello, "/", 200),
        Target("floor", args.package, "/", 200, app_module="floor_app"),
        Target("floor-nogc", args.package, "/", 200, app_module="floor_app_no_gc"),
        Target("tasklake", args.package, "/openapi.json", 200),
        Target("tasklake-401", args.package, "/tasks", 401),
        Target("tasklake-auth", args.package, "/tasks", 200, authenticated=True),
        Target("hello-snapstart", args.hello, "/", 200, snapstart=True),
        Target("auth-snapstart", args.package, "/tasks", 200, authenticated=True, snapstart=True),
    ]
    with tempfile.TemporaryDirectory(prefix="tasklake-bench-") as temp:
        medians = measure(targets, args.stage, Path(temp), args.runs)
    sizes = {target.name: target.package.stat().st_size / 1024 / 1024 for target in targets}
    print(
        f"cold start, median of {args.runs} fresh processes (import + first request), interleaved:"
    )
    for target in targets:
        cold = medians[target.name]
        token = "(token)" if target.authenticated else ""
        print(
            f"  {target.name:<13} GET {target.path:<14} {token:<7} import {cold.import_ms:7.1f} ms"
            f"  first request {cold.first_request_ms:7.1f} ms  total {cold.total_ms:7.1f} ms"
            f"  zip {sizes[target.name]:.2f} MiB"
        )
    baseline = medians["hello-world"].total_ms
    for name in ("floor", "floor-nogc", "tasklake", "tasklake-401", "tasklake-auth"):
        print(f"  ratio {name} / hello-world: {medians[name].total_ms / baseline:.2f}")
    print(
        "  with SnapStart, the first request after a restore (init is in the snapshot):"
        f" signed in {medians['auth-snapstart'].first_request_ms:.1f} ms,"
        f" hello-world {medians['hello-snapstart'].first_request_ms:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
