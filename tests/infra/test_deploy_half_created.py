"""A function Zappa created without its API stack is undeployed, then deployed whole.

Zappa 0.63's `deploy` calls create_function, then PutFunctionConcurrency, then creates the
`tasklake-<stage>` stack with the API Gateway. A reservation the account cannot give stops it
in between. `zappa update` on such a function never creates the stack (update_stack with
update_only=True: "CloudFormation stack missing, re-deploy to enable updates") and the WAF step
then fails on `restapis/None`; `zappa deploy` refuses it ("already deployed": its
ListVersionsByFunction lists $LATEST). Read in .venv-package/…/zappa/cli.py and core.py.

Here the real runner walks the real plan's function steps; what each command answers is
scripted at Runner.execute, the boundary where it would start the AWS CLI or Zappa (the moto
round trip in test_deploy_moto.py runs the same case against moto).
"""

from __future__ import annotations

import pytest

from infra.deploy import plan
from infra.deploy.run import Runner
from infra.deploy.steps import Step


class Scripted(Runner):
    """Runs nothing: records each command, answers probes in order from `answers`."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        super().__init__("eu-west-1")
        self.answers = answers
        self.ran: list[str] = []

    def execute(self, number: str, step: Step, argv: list[str]) -> None:  # noqa: ARG002
        self.ran.append(" ".join(argv))
        if step.probe:
            self.captured[step.probe] = self.answers[step.probe].pop(0)
        elif step.captures:
            self.captured[step.captures] = "a1b2c3"


def run_function_steps(answers: dict[str, list[str]]) -> list[str]:
    steps = plan.deploy_function(plan.Options(stage="staging", region="eu-west-1"))
    runner = Scripted(answers)
    for index, step in enumerate(steps, 1):
        if any("wafv2" in "".join(map(str, a)) for a in step.argv):
            break  # the WAF step reads the api stack's export; the REST API id is what matters
        runner.run_step(f"{index}/{len(steps)}", step)
    return [c.replace(plan.ZAPPA, "zappa") for c in runner.ran if "zappa " in c or "undeploy" in c]


@pytest.mark.parametrize(
    ("answers", "zappa"),
    [
        # Never deployed: create both.
        ({"function-exists": ["no", "no"]}, ["deploy"]),
        # Deployed whole: update.
        ({"function-exists": ["yes", "yes"], "api-stack-exists": ["yes"]}, ["update"]),
        # Half-created: undeploy what is there, then create both.
        ({"function-exists": ["yes", "no"], "api-stack-exists": ["no"]}, ["undeploy", "deploy"]),
    ],
)
def test_the_function_is_created_updated_or_undeployed_then_created(
    answers: dict[str, list[str]], zappa: list[str]
) -> None:
    ran = run_function_steps(answers)

    assert [command.split()[1] for command in ran] == zappa
    for command in ran:
        assert command.split()[2] == "staging"
        assert "-s build/zappa_settings.staging.json" in command
    assert all(not remaining for remaining in answers.values())
