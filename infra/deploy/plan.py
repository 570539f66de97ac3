"""The ordered steps of `deploy` and `destroy`, built without touching AWS.

Each step is one command an operator could run by hand; the plan is the runbook.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from infra.deploy import requirements, stacks
from infra.deploy.retained import Kept, kept_by_zappa, kept_resources
from infra.deploy.stacks import ROOT, stack_name
from infra.deploy.steps import Arg, Captured, Export, Part, Resource, Step, arg
from infra.deploy.templates import owned_buckets, owns_lambda_log_group

DAGS = ROOT / "dags"
# Where MWAA mounts the bucket's dags/ prefix; requirements.txt's --constraint names a file there.
MWAA_DAGS_FOLDER = PurePosixPath("/usr/local/airflow/dags")
BUILD = PurePosixPath("build")
ZAPPA = ".venv-package/bin/zappa"
PYTHON = ".venv/bin/python"
# What WAF answers while a stage Zappa just created is not visible to it yet.
WAF_NOT_YET = "WAFUnavailableEntityException"
# What API Gateway answers while a role created minutes ago has not reached it yet.
ROLE_NOT_YET = "The role ARN does not have required permissions"
API_LOGS = "api-gateway-logs-role-arn"
NO_AIRFLOW = "none: orchestration is off in this stage (ORCHESTRATION=on deploys it)"


@dataclass(frozen=True)
class Options:
    stage: str
    region: str = "<region>"
    templates: Path = ROOT / "infra"
    # Zappa's final GET of the new URL; off where the URL is not reachable (moto).
    touch: bool = True
    alarm_email: str | None = None
    # The SES identity Cognito mails codes through; identity.yaml requires it outside dev.
    ses_identity_arn: str | None = None
    ses_from_address: str | None = None
    # The requirements MWAA installs; their content names the key they are uploaded to.
    requirements: Path = DAGS / "requirements.txt"
    # Delete a stack its failed first create left in ROLLBACK_COMPLETE instead of stopping.
    force: bool = False
    # MWAA, its network and the DAG upload; None: the stage's default (stacks.STAGES).
    orchestration: bool | None = None
    # The function's reserved concurrency (RESERVED_CONCURRENCY); None: the stage's (none).
    reserved_concurrency: int | None = None
    # The read-only account check first; off only where no quota exists to check (moto).
    preflight: bool = True

    @property
    def orchestrated(self) -> bool:
        chosen = self.orchestration
        return stacks.STAGES[self.stage].orchestration if chosen is None else chosen


@dataclass(frozen=True)
class Plan:
    steps: list[Step]
    # What to print at the end: (label, value).
    summary: list[tuple[str, Arg]] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)


def zappa_settings_file(stage: str) -> PurePosixPath:
    return BUILD / f"zappa_settings.{stage}.json"


def package_file(stage: str) -> PurePosixPath:
    """The zip `make package` builds (the Makefile's $(PACKAGE))."""
    return BUILD / f"tasklake-{stage}.zip"


def constraints_file(requirements: Path = DAGS / "requirements.txt") -> str:
    """The constraints file dags/requirements.txt points at, relative to dags/."""
    for line in requirements.read_text().splitlines():
        if line.startswith("--constraint"):
            target = PurePosixPath(shlex.split(line)[1])
            return str(target.relative_to(MWAA_DAGS_FOLDER))
    raise ValueError(f"{requirements} names no --constraint file")


def _aws(*argv: Part | Arg) -> tuple[Arg, ...]:
    return tuple(a if isinstance(a, tuple) else arg(a) for a in ("aws", *argv))


def whoami() -> Step:
    return Step(
        "which account do these credentials reach?",
        _aws("sts", "get-caller-identity", "--query", "Account", "--output", "text"),
        captures="account",
    )


def preflight(options: Options) -> Step:
    """Before anything is made: what the account lacks for this stage (make preflight)."""
    argv = [PYTHON, "-m", "infra.deploy", "preflight", "--stage", options.stage]
    argv += ["--orchestration", "on" if options.orchestrated else "off"]
    if options.templates != ROOT / "infra":
        argv += ["--templates", _relative(options.templates)]
    if options.reserved_concurrency is not None:
        argv += ["--reserved-concurrency", str(options.reserved_concurrency)]
    if options.ses_identity_arn:
        argv += ["--ses-identity-arn", options.ses_identity_arn]
    if options.force:
        argv.append("--force")
    return Step("does the account have what this stage needs? (read-only)", _args(*argv))


def check_stage(options: Options) -> Step:
    """Before any stack: nothing a failed create or an earlier destroy left may be in the way."""
    argv = [PYTHON, "-m", "infra.deploy", "check-stage", "--stage", options.stage]
    argv += ["--orchestration", "on" if options.orchestrated else "off"]
    if options.templates != ROOT / "infra":
        argv += ["--templates", _relative(options.templates)]
    if options.force:
        argv.append("--force")
    return Step(
        "is anything in the way? (a stack rolled back on create, data an earlier destroy kept)",
        (*_args(*argv), arg("--account"), arg(Captured("account"))),
    )


def deploy_stack(options: Options, part: str, extra: dict[str, Part | Arg] | None = None) -> Step:
    stage = options.stage
    template = stacks.template_path(part, options.templates)
    parameters = {"Project": stacks.PROJECT, "Owner": stacks.OWNER, "Environment": stage}
    parameters["CostCenter"] = stacks.tags(stage)["CostCenter"]
    values: dict[str, Part | Arg] = {**parameters, **(extra or {})}
    overrides = [
        arg(f"{key}=", *(value if isinstance(value, tuple) else (value,)))
        for key, value in values.items()
    ]
    tag_args = [arg(f"{key}={value}") for key, value in stacks.tags(stage).items()]
    argv = _aws(
        "cloudformation",
        "deploy",
        "--stack-name",
        stack_name(stage, part),
        "--template-file",
        _relative(template),
        "--parameter-overrides",
        *overrides,
        "--tags",
        *tag_args,
        "--no-fail-on-empty-changeset",
        "--capabilities",
        "CAPABILITY_NAMED_IAM",
    )
    return Step(f"deploy stack {stack_name(stage, part)}", argv)


def dag_files() -> list[str]:
    """The DAG files MWAA parses: every module in dags/."""
    return sorted(path.name for path in DAGS.glob("*.py"))


def upload_to_mwaa(options: Options, key: str) -> list[Step]:
    """The DAGs, etl/ beside them (ADR 0007), the requirements under `key`, their constraints."""
    bucket = Export(
        stack_name(options.stage, "analytics"),
        stacks.export_name(options.stage, "mwaa-source-bucket"),
    )
    source = _relative(options.requirements)
    staged = requirements.STAGED / PurePosixPath(key).name
    return [
        Step(
            "upload the etl package beside the DAG (dags/etl/)",
            _aws(
                "s3",
                "sync",
                "etl",
                arg("s3://", bucket, "/dags/etl"),
                "--delete",
                "--exclude",
                "*",
                "--include",
                "*.py",
                # The transform's SQL (etl/sql/), which the Athena engine runs.
                "--include",
                "*.sql",
            ),
        ),
        Step(
            "upload the DAGs, their .airflowignore and the constraints file",
            _aws(
                "s3",
                "sync",
                "dags",
                arg("s3://", bucket, "/dags"),
                "--exclude",
                "*",
                # Every DAG file: tasks_daily.py, lake_erasure.py.
                *(part for dag in dag_files() for part in ("--include", dag)),
                "--include",
                ".airflowignore",
                "--include",
                constraints_file(options.requirements),
            ),
        ),
        Step(
            "copy the requirements MWAA installs to a file named by their SHA-256",
            _args(PYTHON, "-m", "infra.deploy", "copy-requirements", source, str(staged)),
        ),
        Step(
            f"upload the requirements as {key}, unless that key is there already",
            _aws(
                "s3",
                "sync",
                str(staged.parent),
                arg("s3://", bucket, f"/{requirements.PREFIX}"),
                # Same key means same content, so a key that is there is never uploaded again,
                # whatever the copy's mtime.
                "--size-only",
                "--exclude",
                "*",
                "--include",
                staged.name,
            ),
        ),
        Step(
            "read the requirements' version for the orchestration stack",
            _aws(
                "s3api",
                "head-object",
                "--bucket",
                arg(bucket),
                "--key",
                key,
                "--query",
                "VersionId",
                "--output",
                "text",
            ),
            captures="requirements-version",
        ),
    ]


def _args(*argv: str) -> tuple[Arg, ...]:
    return tuple(arg(a) for a in argv)


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _rest_api_id(function: str) -> tuple[Arg, ...]:
    """The id of the REST API Zappa names after the function."""
    return _aws(
        "apigateway",
        "get-rest-apis",
        "--query",
        f"items[?name=='{function}'].id | [0]",
        "--output",
        "text",
    )


def _function_exists(title: str, function: str) -> Step:
    """Ask Lambda whether the function exists; later steps branch on the answer."""
    return Step(
        title,
        _aws(
            "lambda",
            "get-function",
            "--function-name",
            function,
            "--query",
            "Configuration.FunctionArn",
            "--output",
            "text",
        ),
        probe="function-exists",
    )


def repair_lake_catalog(options: Options) -> Step:
    """A changed lake table loses its partitions and `<table>_latest` its location; put them
    back from the pointers publish leaves (etl/catalog_repair.py). A no-op when nothing changed.

    The database is named as infra/analytics.yaml names it (`${Project}_${Environment}`).
    """
    database = f"{stacks.PROJECT}_{options.stage}"
    return Step(
        "repair the lake catalog: partitions and each <table>_latest from the publish pointers",
        _args(PYTHON, "-m", "etl.catalog_repair", "--database", database),
    )


def let_api_gateway_log(options: Options) -> Step:
    """The account-wide role API Gateway writes execution logs with (Zappa's stage logs INFO).

    Set here, not by an AWS::ApiGateway::Account in the api stack: there it ran seconds after
    the role's create and failed until IAM had propagated it; a step can be retried.
    """
    role = Export(stack_name(options.stage, "api"), stacks.export_name(options.stage, API_LOGS))
    return Step(
        "let API Gateway write the stage's logs with the api stack's role (account setting)",
        _aws(
            "apigateway",
            "update-account",
            "--patch-operations",
            arg("op=replace,path=/cloudwatchRoleArn,value=", role),
        ),
        retry_on=(ROLE_NOT_YET,),
    )


def _zappa_stack_exists(function: str) -> Step:
    """Ask CloudFormation for the stack Zappa makes the API Gateway in (named as the function)."""
    return Step(
        f"does Zappa's API stack {function} exist?",
        _aws(
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            function,
            "--query",
            "Stacks[0].StackStatus",
            "--output",
            "text",
        ),
        probe="api-stack-exists",
        # Only asked about a function that exists: a half-created one is the case to find.
        only_if=("function-exists", "yes"),
    )


def deploy_function(options: Options) -> list[Step]:
    """Zappa: `deploy` the first time, `update` after; then the WAF and throttling on its stage.

    Zappa's deploy creates the function, then reserves its concurrency, then creates the API's
    stack. A deploy that stops in between (a reservation the account cannot give) leaves the
    function without that stack: `zappa update` never creates it and `zappa deploy` refuses a
    function that exists. Such a function serves nothing yet, so it is undeployed first and
    the first deploy runs again (ADR 0010).
    """
    stage = options.stage
    function = f"{stacks.PROJECT}-{stage}"
    settings = str(zappa_settings_file(stage))
    zip_file = str(package_file(stage))
    write_settings = [PYTHON, "-m", "infra.deploy", "zappa-settings", "--stage", stage]
    if not options.touch:
        write_settings.append("--no-touch")
    if options.reserved_concurrency is not None:
        write_settings += ["--reserved-concurrency", str(options.reserved_concurrency)]
    rest_api = Captured("rest-api-id")
    limits = stacks.STAGES[stage]
    stage_arn = arg(
        f"arn:aws:apigateway:{options.region}::/restapis/", rest_api, f"/stages/{stage}"
    )
    return [
        _function_exists(f"does the function {function} exist yet?", function),
        _zappa_stack_exists(function),
        Step(
            f"write {settings} from the stack outputs",
            _args(*write_settings),
        ),
        Step(
            "half-created (a function without its API stack): undeploy it to deploy it whole",
            _args(ZAPPA, "undeploy", stage, "-s", settings, "--yes"),
            only_if=("api-stack-exists", "no"),
        ),
        _function_exists(f"does the function {function} exist now?", function),
        Step(
            "first deploy: create the function and its API Gateway",
            _args(ZAPPA, "deploy", stage, "-s", settings, "-z", zip_file),
            only_if=("function-exists", "no"),
        ),
        Step(
            "update the function's code and settings",
            _args(ZAPPA, "update", stage, "-s", settings, "-z", zip_file),
            only_if=("function-exists", "yes"),
        ),
        Step(
            "find the REST API Zappa made",
            _rest_api_id(function),
            captures="rest-api-id",
        ),
        Step(
            "put the stage behind the WAF web ACL",
            _aws(
                "wafv2",
                "associate-web-acl",
                "--web-acl-arn",
                arg(Export(stack_name(stage, "api"), stacks.export_name(stage, "web-acl-arn"))),
                "--resource-arn",
                stage_arn,
            ),
            retry_on=(WAF_NOT_YET,),
        ),
        Step(
            f"throttle the stage: {limits.throttle_rate:g}/s, bursts of {limits.throttle_burst}",
            _aws(
                "apigateway",
                "update-stage",
                "--rest-api-id",
                arg(rest_api),
                "--stage-name",
                stage,
                "--patch-operations",
                f"op=replace,path=/*/*/throttling/rateLimit,value={limits.throttle_rate:g}",
                f"op=replace,path=/*/*/throttling/burstLimit,value={limits.throttle_burst}",
            ),
        ),
    ]


def deploy_plan(options: Options) -> Plan:
    stage, region = options.stage, options.region
    steps = [whoami(), *([preflight(options)] if options.preflight else []), check_stage(options)]
    # Read once: the key uploaded and the key the orchestration stack is given must be one.
    key = requirements.s3_key(options.requirements)
    for part in stacks.parts(options.orchestrated):
        extra: dict[str, Part | Arg] = {}
        if part == "analytics":
            extra["LakeBucketName"] = arg(stacks.lake_bucket_name(stage, ""), Captured("account"))
        if part == "orchestration":
            extra["RequirementsS3Path"] = key
            extra["RequirementsS3ObjectVersion"] = Captured("requirements-version")
        if part == "monitoring":
            extra["Orchestration"] = "on" if options.orchestrated else "off"
        if part == "identity" and options.ses_identity_arn:
            extra["SesIdentityArn"] = options.ses_identity_arn
        if part == "identity" and options.ses_from_address:
            extra["SesFromAddress"] = options.ses_from_address
        if part == "monitoring" and options.alarm_email:
            extra["AlarmEmail"] = options.alarm_email
        if part == "monitoring":
            steps += deploy_function(options)
        steps.append(deploy_stack(options, part, extra))
        if part == "api":
            steps.append(let_api_gateway_log(options))
        if part == "analytics":
            steps.append(repair_lake_catalog(options))
        if part == "analytics" and options.orchestrated:
            steps += upload_to_mwaa(options, key)
    orchestration, monitoring = stack_name(stage, "orchestration"), stack_name(stage, "monitoring")
    webserver = (
        arg(Export(orchestration, stacks.export_name(stage, "mwaa-webserver-url")))
        if options.orchestrated
        else arg(NO_AIRFLOW)
    )
    dashboard = Export(monitoring, stacks.export_name(stage, "dashboard-name"))
    console = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
    summary = [
        (
            "API",
            arg(
                "https://", Captured("rest-api-id"), f".execute-api.{region}.amazonaws.com/{stage}"
            ),
        ),
        ("Airflow UI", webserver),
        ("Dashboard", arg(f"{console}#dashboards/dashboard/", dashboard)),
    ]
    return Plan(steps, summary)


def destroy_plan(options: Options) -> Plan:
    """Zappa's function and API first, then the stacks in reverse, each emptied of its buckets."""
    stage = options.stage
    function = f"{stacks.PROJECT}-{stage}"
    settings = str(zappa_settings_file(stage))
    steps = [
        whoami(),
        _function_exists(f"is the function {function} deployed?", function),
        Step(
            f"write {settings} from the stack outputs",
            _args(PYTHON, "-m", "infra.deploy", "zappa-settings", "--stage", stage),
            only_if=("function-exists", "yes"),
        ),
        Step(
            "note the REST API's id (its execution log group is kept)",
            _rest_api_id(function),
            captures="rest-api-id",
            only_if=("function-exists", "yes"),
        ),
        Step(
            "remove the function, its API Gateway and its schedules",
            _args(ZAPPA, "undeploy", stage, "-s", settings, "--yes"),
            only_if=("function-exists", "yes"),
        ),
    ]
    kept: list[Kept] = []
    for part in reversed(stacks.PARTS):
        name = stack_name(stage, part)
        template = stacks.template_path(part, options.templates)
        for bucket in owned_buckets(template):
            steps.append(
                Step(
                    f"empty the bucket {bucket} of {name} (every version)",
                    (
                        *_args(PYTHON, "-m", "infra.deploy", "empty-bucket"),
                        arg(Resource(name, bucket)),
                    ),
                    skip_if_stack_missing=True,
                )
            )
        steps.append(
            Step(
                f"delete stack {name}", _aws("cloudformation", "delete-stack", "--stack-name", name)
            )
        )
        steps.append(
            Step(
                f"wait until {name} is gone",
                _aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", name),
            )
        )
        kept += kept_resources(name, template)
    templates = [stacks.template_path(part, options.templates) for part in stacks.PARTS]
    owned = any(owns_lambda_log_group(template) for template in templates)
    kept += kept_by_zappa(function, stage, lambda_logs_owned=owned)
    return Plan(steps, kept=kept)
