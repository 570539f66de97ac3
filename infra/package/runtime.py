"""Run a Lambda zip the way the Python 3.12 runtime does, on this machine.

The zip is extracted as the task root (`/var/task` on Lambda) and imported by
an interpreter that sees only the standard library, the task root and a folder
holding the AWS SDK the runtime provides (boto3, botocore and their
dependencies, copied from the current environment). Site-packages, the user's
site and PYTHON* variables are ignored (`-I -S`), and no bytecode is written
(`-B`, like the read-only `/var/task`). So an import that works here works
because the package holds it, not because the source tree or the dev venv does.

The artifact tests and `make bench-cold` drive `handler.lambda_handler` through
`LambdaProcess`, one process per cold start.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

# Where Lambda extracts the zip; variables naming a path under it point at the local copy here.
LAMBDA_TASK_ROOT = "/var/task"
# What the Lambda Python runtime puts on the path besides the task root.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

# The environment Lambda gives every function, before the function's own variables.
LAMBDA_ENVIRONMENT = {
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}

# Runs inside the child: imports the handler, then answers one event per stdin line.
BOOTSTRAP = """
import json, os, sys, time
started = time.perf_counter()
task_root, sdk_dir, reply_fd = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path[:0] = [task_root, sdk_dir]
replies = os.fdopen(reply_fd, "w", buffering=1)

class Context:
    def __init__(self, request_id):
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = "512"
        self.invoked_function_arn = (
            "arn:aws:lambda:us-east-1:000000000000:function:" + self.function_name
        )
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + 30
    def get_remaining_time_in_millis(self):
        return int((self._deadline - time.monotonic()) * 1000)

from handler import lambda_handler
imported = time.perf_counter()
replies.write(json.dumps({"import_seconds": imported - started}) + "\\n")
for line in sys.stdin:
    request = json.loads(line)
    began = time.perf_counter()
    response = lambda_handler(request["event"], Context(request["request_id"]))
    took = time.perf_counter() - began
    sys.stdout.flush()
    replies.write(json.dumps({"response": response, "seconds": took}) + "\\n")
"""


class RuntimeProcessError(RuntimeError):
    """The handler process died or could not import; the message holds its output."""


def extract(package: Path, task_root: Path) -> Path:
    with zipfile.ZipFile(package) as archive:
        archive.extractall(task_root)
    return task_root


def provide_sdk(target: Path) -> Path:
    """A folder holding only the AWS SDK the Lambda runtime ships, copied from this environment."""
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeProcessError(f"{name} is not installed here; the runtime provides it")
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, target / name, dirs_exist_ok=True)
        else:
            shutil.copy2(origin, target / origin.name)
    return target


def stage_environment(settings_file: Path, stage: str) -> dict[str, str]:
    """The variables a deployed stage gets: Lambda's own, plus `aws_environment_variables`."""
    stages: dict[str, dict[str, Any]] = json.loads(settings_file.read_text())
    config = dict(stages[stage])
    parent = config.get("extends")
    while parent:
        config = {**stages[parent], **config, "extends": stages[parent].get("extends")}
        parent = config.get("extends")
    region = str(config.get("aws_region", "us-east-1"))
    function_name = f"{config.get('project_name', 'app')}-{stage}"
    return {
        **LAMBDA_ENVIRONMENT,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        **{key: str(value) for key, value in config.get("aws_environment_variables", {}).items()},
    }


def on_this_machine(environment: Mapping[str, str], task_root: Path) -> dict[str, str]:
    """`environment` with paths under Lambda's /var/task moved to the zip extracted here."""
    moved = {
        name: str(task_root) + value.removeprefix(LAMBDA_TASK_ROOT)
        for name, value in environment.items()
        if value == LAMBDA_TASK_ROOT or value.startswith(LAMBDA_TASK_ROOT + "/")
    }
    return {**environment, **moved, "LAMBDA_TASK_ROOT": str(task_root)}


class LambdaProcess:
    """One execution environment: a fresh interpreter that has imported the handler."""

    def __init__(
        self,
        task_root: Path,
        sdk_dir: Path,
        environment: Mapping[str, str],
        log_path: Path,
    ) -> None:
        self.log_path = log_path
        environment = on_this_machine(environment, task_root)
        reply_read, reply_write = os.pipe()
        self._log = log_path.open("w")
        arguments = [str(task_root), str(sdk_dir), str(reply_write)]
        self._process = subprocess.Popen(  # noqa: S603 (our interpreter, our bootstrap)
            [sys.executable, "-I", "-S", "-B", "-c", BOOTSTRAP, *arguments],
            cwd=task_root,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environment},
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            pass_fds=(reply_write,),
        )
        os.close(reply_write)
        self._replies: TextIO = os.fdopen(reply_read)
        self.import_seconds = float(self._reply()["import_seconds"])

    def _reply(self) -> dict[str, Any]:
        line = self._replies.readline()
        if not line:
            self._process.wait(10)
            raise RuntimeProcessError(
                f"the handler process exited ({self._process.returncode}):\n{self.output()}"
            )
        reply: dict[str, Any] = json.loads(line)
        return reply

    def invoke(self, event: Mapping[str, Any], request_id: str) -> tuple[dict[str, Any], float]:
        """The handler's response to one event, and how long the handler took, in seconds."""
        assert self._process.stdin is not None  # noqa: S101 (set by Popen above)
        self._process.stdin.write(json.dumps({"event": event, "request_id": request_id}) + "\n")
        self._process.stdin.flush()
        reply = self._reply()
        response: dict[str, Any] = reply["response"]
        return response, float(reply["seconds"])

    def output(self) -> str:
        """Everything the process printed so far (its logs)."""
        self._log.flush()
        return self.log_path.read_text()

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        self._replies.close()
        self._log.close()

    def __enter__(self) -> LambdaProcess:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


def gateway_event(
    method: str,
    path: str,
    *,
    stage: str = "dev",
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    query: Mapping[str, str] | None = None,
    request_id: str = "gateway-request",
) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload 1.0), as `{proxy+}` delivers it."""
    all_headers = {
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "tasklake-package-test",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
        **({"Content-Type": "application/json"} if body is not None else {}),
        **(headers or {}),
    }
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": (
            {name: [value] for name, value in query.items()} if query else None
        ),
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "accountId": "000000000000",
            "apiId": "abc123",
            "protocol": "HTTP/1.1",
            "domainName": all_headers["Host"],
            "identity": {"sourceIp": "127.0.0.1", "userAgent": all_headers["User-Agent"]},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def json_body(response: Mapping[str, Any]) -> Any:
    """The parsed body of a proxy response, or None when it is not JSON."""
    headers = {name.lower(): value for name, value in (response.get("headers") or {}).items()}
    body = response.get("body")
    if not body or "json" not in headers.get("content-type", ""):
        return None
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body)
    return json.loads(body)
