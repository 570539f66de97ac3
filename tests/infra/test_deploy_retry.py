"""A step that meets a resource AWS has not made visible yet is retried, boundedly, then named.

A stub stands in for AWS here: moto creates everything at once and never answers
WAFUnavailableEntityException or "The role ARN does not have required permissions". The stub is
a real command run by the real runner (`infra.deploy.run.Runner`): it fails with that error
text a given number of times, then succeeds. Only the waiting is recorded instead of slept.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from infra.deploy import plan
from infra.deploy.run import Backoff, Runner, StepFailed
from infra.deploy.steps import Step, arg

STUB = """\
import pathlib, sys
count = pathlib.Path(sys.argv[1])
failures = int(count.read_text()) if count.exists() else 0
if failures < int(sys.argv[2]):
    count.write_text(str(failures + 1))
    sys.exit("An error occurred (" + sys.argv[3] + ") when calling the operation: not yet")
print("done")
"""


def stub_step(tmp_path: Path, failures: int, error: str, retry_on: str) -> Step:
    argv = (sys.executable, "-c", STUB, str(tmp_path / "count"), str(failures), error)
    return Step("associate", tuple(arg(a) for a in argv), retry_on=(retry_on,))


def runner(waited: list[float]) -> Runner:
    return Runner("us-east-1", Backoff(attempts=6, first=5, cap=60), sleep=waited.append)


def test_a_not_yet_visible_stage_is_retried_with_doubling_waits_until_it_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waited: list[float] = []
    step = stub_step(tmp_path, 3, plan.WAF_NOT_YET, plan.WAF_NOT_YET)

    runner(waited).run_step("9/30", step)

    assert waited == [5, 10, 20]
    out = capsys.readouterr().out
    retries = [line.strip() for line in out.splitlines() if "retry" in line]
    assert retries == [
        f"{plan.WAF_NOT_YET}: not visible yet, retry {n}/5 in {wait} s"
        for n, wait in [(1, 5), (2, 10), (3, 20)]
    ]
    assert out.rstrip().endswith("done")


def test_the_retries_are_bounded_and_end_in_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waited: list[float] = []
    step = stub_step(tmp_path, 99, plan.ROLE_NOT_YET, plan.ROLE_NOT_YET)

    with pytest.raises(StepFailed) as failed:
        runner(waited).run_step("9/30", step)

    assert waited == [5, 10, 20, 40, 60]
    assert str(failed.value) == 'step 9/30 "associate" failed with exit code 1 after 6 attempts'
    assert plan.ROLE_NOT_YET in capsys.readouterr().err


def test_any_other_error_fails_at_once(tmp_path: Path) -> None:
    waited: list[float] = []
    step = stub_step(tmp_path, 1, "AccessDeniedException", plan.WAF_NOT_YET)

    with pytest.raises(StepFailed) as failed:
        runner(waited).run_step("9/30", step)

    assert waited == []
    assert str(failed.value) == 'step 9/30 "associate" failed with exit code 1'


def test_the_waf_and_the_api_gateway_log_role_steps_retry_on_their_errors() -> None:
    steps = plan.deploy_plan(plan.Options(stage="dev")).steps
    retried = {s.retry_on: s.command() for s in steps if s.retry_on}

    assert "wafv2 associate-web-acl" in retried[(plan.WAF_NOT_YET,)]
    assert "apigateway update-account" in retried[(plan.ROLE_NOT_YET,)]
    titles = [s.title for s in steps]
    update = titles.index(next(t for t in titles if "API Gateway write" in t))
    assert titles.index("deploy stack tasklake-dev-api") < update
    assert update < titles.index("first deploy: create the function and its API Gateway")
