"""`make deploy`'s plan against the templates it deploys: order, parameters, imports.

No AWS and no network: the plan is built in-process, and the dry run runs with no credentials,
no region and an endpoint nothing listens on (the CLI's `main` in this process, as
tests/infra/in_process.py runs it).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from infra.cfn import Tag, load_template
from infra.deploy import plan, stacks, zappa_settings
from infra.deploy.__main__ import main
from infra.deploy.steps import Step, render
from tests.infra import monitoring_template
from tests.infra.deploy_moto import offline_environment
from tests.infra.in_process import run_main

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_ORDER = [
    "keys", "data", "identity", "analytics", "network", "orchestration", "api", "monitoring",
]  # fmt: skip
NAMES = {"Project": "tasklake", "Environment": "dev", "Stage": "dev"}
REQUIREMENTS = ROOT / "dags" / "requirements.txt"


def stack_steps(steps: list[Step]) -> list[Step]:
    return [
        s for s in steps if [render(a) for a in s.argv[:3]] == ["aws", "cloudformation", "deploy"]
    ]


def option(step: Step, name: str) -> list[str]:
    """The values after `--name` up to the next option."""
    words = [render(a) for a in step.argv]
    start = words.index(name) + 1
    end = next((i for i in range(start, len(words)) if words[i].startswith("--")), len(words))
    return words[start:end]


def substitute(value: Any) -> str:
    text = value.value if isinstance(value, Tag) else value.get("Fn::Sub", value)
    for key, replacement in NAMES.items():
        text = text.replace("${" + key + "}", replacement)
    return str(text)


def imports(node: Any) -> set[str]:
    """Every export name a template imports, in either spelling of ImportValue."""
    if isinstance(node, Tag):
        return {substitute(node.value)} if node.name == "ImportValue" else imports(node.value)
    if isinstance(node, dict):
        found = {substitute(node["Fn::ImportValue"])} if "Fn::ImportValue" in node else set()
        return found.union(*(imports(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(imports(v) for v in node))
    return set()


def exports(template: dict[str, Any]) -> set[str]:
    outputs = (template.get("Outputs") or {}).values()
    return {substitute(o["Export"]["Name"]) for o in outputs if "Export" in o}


@pytest.fixture(scope="module")
def deploy_steps() -> list[Step]:
    """The whole plan: dev with orchestration on, as staging and prod deploy."""
    options = plan.Options(stage="dev", region="eu-west-1", orchestration=True)
    return plan.deploy_plan(options).steps


@pytest.mark.parametrize("force", [False, True])
def test_the_check_for_what_is_in_the_way_runs_before_the_first_stack(force: bool) -> None:
    steps = plan.deploy_plan(plan.Options(stage="dev", force=force)).steps
    check = next(s for s in steps if "check-stage" in s.command())

    assert steps.index(check) < steps.index(stack_steps(steps)[0])
    assert option(check, "--account") == ["<account>"]
    assert ("--force" in check.command()) is force
    # Only the stacks this deploy makes: dev leaves out the orchestration ones.
    assert option(check, "--orchestration") == ["off"]


def test_stacks_deploy_in_the_contract_order_from_their_templates(deploy_steps: list[Step]) -> None:
    steps = stack_steps(deploy_steps)
    assert [option(s, "--stack-name")[0] for s in steps] == [
        f"tasklake-dev-{part}" for part in CONTRACT_ORDER
    ]
    for step, part in zip(steps, CONTRACT_ORDER, strict=True):
        assert option(step, "--template-file") == [f"infra/{part}.yaml"]
        assert (ROOT / "infra" / f"{part}.yaml").exists(), f"infra/{part}.yaml is missing"


@pytest.mark.parametrize("part", CONTRACT_ORDER)
def test_parameters_passed_are_declared_and_required_ones_passed(
    deploy_steps: list[Step], part: str
) -> None:
    step = next(s for s in stack_steps(deploy_steps) if f"infra/{part}.yaml" in s.command())
    passed = {override.split("=", 1)[0] for override in option(step, "--parameter-overrides")}
    declared = load_template(ROOT / "infra" / f"{part}.yaml").get("Parameters") or {}
    required = {name for name, spec in declared.items() if "Default" not in spec}
    assert passed <= set(declared), f"{part}: not in the template: {passed - set(declared)}"
    assert required <= passed, f"{part}: required but not passed: {required - passed}"


def test_every_import_is_exported_by_an_earlier_stack() -> None:
    exported: set[str] = set()
    for part in CONTRACT_ORDER:
        template = load_template(ROOT / "infra" / f"{part}.yaml")
        missing = imports(template) - exported
        assert not missing, f"{part} imports what no earlier stack exports: {sorted(missing)}"
        exported |= exports(template)


def test_the_mwaa_upload_sits_between_analytics_and_orchestration(
    deploy_steps: list[Step],
) -> None:
    titles = [s.title for s in deploy_steps]
    analytics = titles.index("deploy stack tasklake-dev-analytics")
    orchestration = titles.index("deploy stack tasklake-dev-orchestration")
    uploads = [s for s in deploy_steps[analytics:orchestration] if "s3" in s.command()]
    uploaded = " ".join(s.command() for s in uploads)
    assert {"tasks_daily.py", "lake_erasure.py"} <= set(plan.dag_files())
    for name in ("etl", *plan.dag_files(), ".airflowignore", content_key(REQUIREMENTS)):
        assert name.removeprefix("requirements/") in uploaded
    assert plan.constraints_file() in uploaded
    assert (ROOT / "dags" / plan.constraints_file()).exists()
    version = option(deploy_steps[orchestration], "--parameter-overrides")
    assert "RequirementsS3ObjectVersion=<requirements-version>" in version


def content_key(requirements: Path) -> str:
    """requirements/<the first 16 hex digits of the file's SHA-256>.txt"""
    return f"requirements/{hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]}.txt"


def requirements_steps(steps: list[Step]) -> tuple[Step, Step, Step, list[str]]:
    """The copy, the upload and the version read of the requirements; the orchestration's
    parameter overrides."""
    copy = next(s for s in steps if "copy-requirements" in s.command())
    upload, head = steps[steps.index(copy) + 1], steps[steps.index(copy) + 2]
    orchestration = next(s for s in stack_steps(steps) if "orchestration.yaml" in s.command())
    return copy, upload, head, option(orchestration, "--parameter-overrides")


def test_the_requirements_go_to_a_key_named_by_their_sha256(deploy_steps: list[Step]) -> None:
    key = content_key(REQUIREMENTS)
    name = key.removeprefix("requirements/")
    copy, upload, head, overrides = requirements_steps(deploy_steps)

    assert [render(a) for a in copy.argv[-2:]] == [
        "dags/requirements.txt",
        f"build/mwaa/requirements/{name}",
    ]
    assert [render(a) for a in upload.argv[:4]] == ["aws", "s3", "sync", "build/mwaa/requirements"]
    assert render(upload.argv[4]).endswith("/requirements")
    # Only this one file, and not again when a key of the same size is there.
    assert option(upload, "--include") == [name]
    assert option(upload, "--exclude") == ["*"]
    assert "--size-only" in [render(a) for a in upload.argv]
    assert option(head, "--key") == [key]
    assert head.captures == "requirements-version"
    assert f"RequirementsS3Path={key}" in overrides


def test_one_changed_character_changes_the_key_and_a_newer_copy_does_not(
    tmp_path: Path, deploy_steps: list[Step]
) -> None:
    text = REQUIREMENTS.read_text()
    assert "==9.34.0" in text
    edited, touched = tmp_path / "edited" / "requirements.txt", tmp_path / "requirements.txt"
    edited.parent.mkdir()
    edited.write_text(text.replace("==9.34.0", "==9.35.0"))  # the same size
    touched.write_text(text)  # the same bytes, a newer mtime

    keys = {
        path: requirements_steps(
            plan.deploy_plan(plan.Options(stage="dev", requirements=path, orchestration=True)).steps
        )[3]
        for path in (edited, touched)
    }

    original = requirements_steps(deploy_steps)[3]
    assert f"RequirementsS3Path={content_key(edited)}" in keys[edited]
    assert content_key(edited) != content_key(REQUIREMENTS)
    assert keys[touched] == original


def test_copy_requirements_copies_to_the_named_file_and_refuses_another_name(
    tmp_path: Path,
) -> None:
    name = content_key(REQUIREMENTS).removeprefix("requirements/")
    environment = offline_environment("http://127.0.0.1:9")  # it needs no AWS
    command = ["copy-requirements", str(REQUIREMENTS)]

    done = run_main(main, [*command, str(tmp_path / "staged" / name)], environment)
    stale = run_main(
        main, [*command, str(tmp_path / "staged" / "0123456789abcdef.txt")], environment
    )

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "staged" / name).read_bytes() == REQUIREMENTS.read_bytes()
    assert stale.returncode == 1
    assert f"its content is now {name}, not 0123456789abcdef.txt" in stale.stderr
    assert not (tmp_path / "staged" / "0123456789abcdef.txt").exists()


def dry_run(*argv: str) -> subprocess.CompletedProcess[str]:
    """The CLI with no credentials, no region, no config and an endpoint nothing listens on."""
    return run_main(main, [*argv, "--dry-run"], offline_environment("http://127.0.0.1:9"))


def test_dry_run_prints_every_command_in_order_without_an_account() -> None:
    done = dry_run("deploy", "--stage", "dev", "--orchestration", "on")
    assert done.returncode == 0, done.stderr
    printed = [line for line in done.stdout.splitlines() if "--stack-name tasklake-dev-" in line]
    assert [line.split("tasklake-dev-")[1].strip(" \\") for line in printed] == CONTRACT_ORDER
    assert "<from tasklake-dev-api: tasklake-dev-web-acl-arn>" in done.stdout
    assert "zappa deploy dev -s build/zappa_settings.dev.json" in done.stdout
    assert "Airflow UI:" in done.stdout
    assert "Dashboard:" in done.stdout
    key = content_key(REQUIREMENTS)
    assert f"--key {key}" in done.stdout
    assert f"RequirementsS3Path={key}" in done.stdout


def test_destroy_dry_run_goes_in_reverse_and_names_what_it_keeps() -> None:
    done = dry_run("destroy", "--stage", "dev")
    assert done.returncode == 0, done.stderr
    deleted = [
        line.split("--stack-name ")[1]
        for line in done.stdout.splitlines()
        if "delete-stack" in line
    ]
    assert deleted == [f"tasklake-dev-{part}" for part in reversed(CONTRACT_ORDER)]
    assert done.stdout.index("zappa undeploy") < done.stdout.index("delete-stack")
    kept = done.stdout.split("Kept on purpose")[1]
    assert "aws dynamodb delete-table --table-name <from tasklake-dev-data: TasksTable>" in kept
    assert (
        "aws glue delete-database --name <from tasklake-dev-analytics: AnalyticsDatabase>" in kept
    )
    assert "aws cognito-idp delete-user-pool" in kept


# How ADR 0010's Consequences name each thing `make destroy` keeps (its "Kept on purpose" list).
KEPT_AS = {
    "AWS::DynamoDB::Table ": "tables",
    "AWS::S3::Bucket ": "buckets",
    "AWS::Glue::Database ": "Glue catalog",
    "AWS::Glue::Table ": "Glue catalog",
    "AWS::Cognito::UserPool ": "pool",
    "AWS::KMS::Key ": "key",
    "AWS::IAM::Role ApiGatewayLogsRole ": "API Gateway's log role",
    "API Gateway's execution log group:": "its execution log group",
}


def test_destroy_keeps_only_what_adr_0010_says_it_keeps() -> None:
    """Issue 23: `make destroy` leaves nothing behind but what the ADR names."""
    adr = (ROOT / "docs" / "adr" / "0010-infrastructure-as-code.md").read_text()
    consequences = " ".join(adr.split("## Consequences")[1].split("## Evidence")[0].split())
    (says,) = [s for s in consequences.split("- ") if s.startswith("`make destroy` keeps")]
    # "keeps a, b and c. …": each name whole, so "key" is not found inside "keys".
    names = re.split(r", | and ", says.removeprefix("`make destroy` keeps ").split(". ")[0])

    done = dry_run("destroy", "--stage", "prod")
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("Kept on purpose")[1].splitlines()
    kept = [line.removeprefix("  - ") for line in listed if line.startswith("  - ")]
    named = {line: [k for k in KEPT_AS if line.startswith(k)] for line in kept}

    assert [line for line, kinds in named.items() if not kinds] == []
    assert {KEPT_AS[k] for kinds in named.values() for k in kinds} == set(KEPT_AS.values())
    assert sorted(names) == sorted(set(KEPT_AS.values()))
    # The Evidence row counts the same kinds.
    assert f"| Destroy keeps what Consequences names | {len(names)} kinds |" in adr


@pytest.mark.parametrize(
    ("stage", "reserved", "snap_start"),
    # No stage reserves concurrency by default: Lambda keeps 100 unreserved, so a new account
    # (10 concurrent executions) can reserve none. Docs, read 2026-12-07:
    # https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html
    # https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
    [("dev", None, None), ("staging", None, None), ("prod", None, "PublishedVersions")],
)
def test_zappa_settings_carry_the_stage_concurrency_and_the_stack_values(
    stage: str, reserved: int | None, snap_start: str | None
) -> None:
    names = {*zappa_settings.ENVIRONMENT.values(), "api-role-arn", "artifacts-bucket"}
    exported = {name: f"<{name}>" for name in {*names, "kms-key-arn"}}

    settings = zappa_settings.derive(stage, "eu-west-1", exported, stacks.tags(stage))

    assert settings.get("lambda_concurrency") == reserved
    assert settings.get("snap_start") == snap_start
    # Lambda refuses SnapStart and provisioned concurrency on one function.
    assert settings.get("provisioned_concurrency") is None
    assert settings["role_arn"] == "<api-role-arn>"
    assert settings["aws_kms_key_arn"] == "<kms-key-arn>"
    assert settings["aws_region"] == "eu-west-1"
    variables = settings["aws_environment_variables"]
    assert variables["CURSOR_SECRET_ARN"] == "<cursor-secret-arn>"
    assert variables["RATE_LIMITS_TABLE"] == "<rate-limits-table>"
    assert variables["REQUIRE_EMAIL_VERIFICATION"] == "true"
    # With SnapStart the app is built before the snapshot, not on the first request.
    assert ("INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT" in variables) == (snap_start is not None)
    assert variables["STAGE"] == stage
    assert "CURSOR_SECRET" not in variables  # the key itself never reaches Lambda's settings
    assert settings["tags"]["Environment"] == stage


def test_a_reservation_is_asked_for_explicitly_and_reaches_zappa_and_preflight() -> None:
    steps = plan.deploy_plan(plan.Options(stage="prod", reserved_concurrency=100)).steps
    settings = next(s for s in steps if "zappa-settings" in s.command())
    check = next(s for s in steps if " preflight " in s.command())

    assert option(settings, "--reserved-concurrency") == ["100"]
    assert option(check, "--reserved-concurrency") == ["100"]
    limits = replace(stacks.STAGES["prod"], reserved_concurrency=100)
    exported = {name: f"<{name}>" for names in zappa_settings.EXPORTS.values() for name in names}
    derived = zappa_settings.derive("prod", "eu-west-1", exported, {}, limits=limits)
    assert derived["lambda_concurrency"] == 100


@pytest.mark.parametrize("force", [False, True])
def test_preflight_runs_first_read_only_and_knows_what_the_deploy_will_clear(
    force: bool,
) -> None:
    steps = plan.deploy_plan(plan.Options(stage="staging", force=force)).steps
    titles = [s.title for s in steps]
    check = next(s for s in steps if " preflight " in s.command())

    assert steps.index(check) == 1  # after the account is known, before anything else
    assert titles[2].startswith("is anything in the way?")
    assert option(check, "--orchestration") == ["on"]
    assert ("--force" in check.command()) is force
    skipped = plan.deploy_plan(plan.Options(stage="staging", preflight=False)).steps
    assert len(skipped) == len(steps) - 1


def test_every_deployable_stage_has_a_zappa_block() -> None:
    # `make deploy STAGE=…` accepts every key of STAGES; a stage without its block in
    # zappa_settings.json would pass the stacks and then fail at the Zappa step.
    blocks = zappa_settings.SOURCE.read_text()
    assert set(stacks.STAGES) <= set(json.loads(blocks))
    for stage in stacks.STAGES:
        source = zappa_settings.source_settings(stage)
        assert source["aws_environment_variables"]["STAGE"] == stage
        assert source["tags"]["Environment"] == stage
        assert f"tasklake-{stage}-" in source["role_arn"]


@pytest.mark.parametrize(
    ("stage", "switch", "orchestrated"),
    [("dev", None, False), ("staging", None, True), ("prod", None, True), ("dev", "on", True),
     ("prod", "off", False)],
)  # fmt: skip
def test_a_stage_without_orchestration_deploys_no_network_mwaa_or_dag(
    stage: str, switch: str | None, orchestrated: bool
) -> None:
    switched = ["--orchestration", switch] if switch else []
    done = dry_run("deploy", "--stage", stage, *switched)

    assert done.returncode == 0, done.stderr
    printed = [
        line for line in done.stdout.splitlines() if f"--stack-name tasklake-{stage}-" in line
    ]
    parts = [line.split(f"tasklake-{stage}-")[1].strip(" \\") for line in printed]
    off = ["network", "orchestration"]
    assert parts == [p for p in CONTRACT_ORDER if orchestrated or p not in off]
    assert ("aws s3 sync dags" in done.stdout) is orchestrated
    assert ("RequirementsS3Path" in done.stdout) is orchestrated
    assert f"Orchestration={'on' if orchestrated else 'off'}" in done.stdout
    if not orchestrated:
        assert f"Airflow UI: {plan.NO_AIRFLOW}" in done.stdout


def test_an_orchestration_switch_other_than_on_or_off_is_refused() -> None:
    environment = {**offline_environment("http://127.0.0.1:9"), "ORCHESTRATION": "yes"}
    done = run_main(main, ["deploy", "--stage", "dev", "--dry-run"], environment)

    assert done.returncode == 2
    assert done.stderr.strip().endswith("ORCHESTRATION must be on or off, not 'yes'")
    assert done.stdout == ""


@pytest.mark.parametrize("switch", ["on", "off"])
def test_monitoring_has_etl_alarms_only_where_orchestration_runs(switch: str) -> None:
    """Without MWAA nothing reports ETL runs: its alarms would only page about that."""
    etl = {"EtlRunFailedAlarm", "EtlDataFreshnessAlarm", "EtlMissingPartitionsAlarm"}

    found = monitoring_template.alarms({"Orchestration": switch})
    widget = monitoring_template.dashboard({"Orchestration": switch})["widgets"][0]

    assert etl & set(found) == (etl if switch == "on" else set())
    listed = {arn.rsplit(":", 1)[1] for arn in widget["properties"]["alarms"]}
    assert listed == set(found)


def test_the_ses_identity_reaches_the_identity_stack_only() -> None:
    arn = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
    options = plan.Options(
        stage="prod", region="eu-west-1", ses_identity_arn=arn, ses_from_address="no-reply@x.io"
    )

    steps = stack_steps(plan.deploy_plan(options).steps)

    with_ses = [
        option(s, "--stack-name")[0]
        for s in steps
        if f"SesIdentityArn={arn}" in option(s, "--parameter-overrides")
        and "SesFromAddress=no-reply@x.io" in option(s, "--parameter-overrides")
    ]
    assert with_ses == ["tasklake-prod-identity"]
