"""Cold start of the packaged handler vs a Flask hello-world packaged the same way.

Each run is a fresh interpreter over the extracted zip (see infra/package/runtime.py):
import of `handler` + the first request, with the stage's own environment and
AWS endpoints that nobody listens on (the measured requests need no network).
The hello-world is built by the same Zappa, settings and exclusions, with Flask
as its only requirement (`make bench-cold` builds both).

    python -m tests.bench.cold_start --package build/tasklake-dev.zip --hello build/hello-world.zip
    python -m tests.bench.cold_start --write-hello-project build/hello-world-src
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from infra.local.services import free_port
from infra.package import runtime

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "zappa_settings.json"
HELLO_APP = '''"""The smallest Flask app: the baseline for cold starts."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> dict[str, str]:
    return {"hello": "world"}
'''


@dataclass(frozen=True)
class Target:
    name: str
    package: Path
    path: str
    status: int


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
    (folder / "zappa_settings.json").write_text(json.dumps({"dev": stages["dev"]}, indent=4))


def cold_start(
    target: Target, task_root: Path, work: Path, environment: dict[str, str]
) -> ColdStart:
    """One fresh process: import the handler, answer the first request."""
    log_path = work / f"{target.name}.log"
    with runtime.LambdaProcess(task_root, work / "sdk", environment, log_path) as process:
        event = runtime.gateway_event("GET", target.path, stage=environment["STAGE"])
        response, seconds = process.invoke(event, "bench")
        if response["statusCode"] != target.status:
            raise SystemExit(f"{target.name}: {target.path} gave {response['statusCode']}")
        return ColdStart(process.import_seconds * 1000, seconds * 1000)


def measure(targets: list[Target], stage: str, work: Path, runs: int) -> dict[str, ColdStart]:
    """Median per target; runs are interleaved so machine noise hits every target alike."""
    runtime.provide_sdk(work / "sdk")
    roots = {
        target.package: runtime.extract(target.package, work / target.package.stem)
        for target in targets
    }
    nowhere = f"http://127.0.0.1:{free_port()}"
    environment = {
        **runtime.stage_environment(SETTINGS_FILE, stage),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL_DYNAMODB": nowhere,
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": nowhere,
    }
    samples: dict[str, list[ColdStart]] = {target.name: [] for target in targets}
    for _run in range(runs):
        for target in targets:
            sample = cold_start(target, roots[target.package], work, environment)
            samples[target.name].append(sample)
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
        Target("tasklake", args.package, "/openapi.json", 200),
        Target("tasklake-401", args.package, "/tasks", 401),
    ]
    with tempfile.TemporaryDirectory(prefix="tasklake-bench-") as temp:
        medians = measure(targets, args.stage, Path(temp), args.runs)
    sizes = {target.name: target.package.stat().st_size / 1024 / 1024 for target in targets}
    print(
        f"cold start, median of {args.runs} fresh processes (import + first request), interleaved:"
    )
    for target in targets:
        cold = medians[target.name]
        print(
            f"  {target.name:<13} GET {target.path:<14} import {cold.import_ms:7.1f} ms"
            f"  first request {cold.first_request_ms:7.1f} ms  total {cold.total_ms:7.1f} ms"
            f"  zip {sizes[target.name]:.2f} MiB"
        )
    baseline = medians["hello-world"].total_ms
    for name in ("tasklake", "tasklake-401"):
        print(f"  ratio {name} / hello-world: {medians[name].total_ms / baseline:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
