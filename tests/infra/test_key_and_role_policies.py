"""Every use of the stage key, and every call our roles make, is allowed by the policies as written.

moto enforces neither key policies nor IAM, so a deploy against it proves nothing here: these
requests are evaluated against the templates' policies by tests/infra/policy_eval.py, resolved
for one stage by tests/infra/deployed_policies.py.

The key's uses are the requests AWS makes when a service encrypts or decrypts with the key, with
the principal and context its guide documents: a service acting for one of our principals sends
`kms:ViaService` and `kms:CallerAccount`, a service acting as itself (CloudWatch Logs, CloudWatch
alarms) is the principal. The key policy must allow each; where it names the account, the
caller's IAM policy must allow it as well (the API and MWAA roles; the deploying operator's own
policy is not in these templates). Resources the grants cover afterwards (Lambda decrypting the
environment, DynamoDB and MWAA through their grants) are authorized by the grant, not the policy.

Each role's calls are the ones its component makes: the API function's runtime (its DynamoDB,
Cognito and Secrets Manager calls are recorded by tests/infra/test_api_role.py), MWAA's own as its
user guide lists them for an execution role, the DAG's, and those Athena makes as the caller. A
Glue call is authorized on the catalog, the database and the table it names, all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from infra.cfn import Tag
from infra.deploy import zappa_settings
from tests.infra.deployed_policies import ACCOUNT, REGION, Stage
from tests.infra.policy_eval import Request, decide, kms_decision

STAGE = Stage("dev")
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/tasklake-deployer"  # whoever runs `make deploy`
API = STAGE.role_arn("api", "ApiRole")
API_GATEWAY = STAGE.role_arn("api", "ApiGatewayInvokeRole")
MWAA = STAGE.role_arn("orchestration", "ExecutionRole")
FLOW_LOGS = STAGE.role_arn("network", "FlowLogRole")
ROLE_POLICIES = {
    API: STAGE.role_policy("api", "ApiRole"),
    API_GATEWAY: STAGE.role_policy("api", "ApiGatewayInvokeRole"),
    MWAA: STAGE.role_policy("orchestration", "ExecutionRole"),
    FLOW_LOGS: STAGE.role_policy("network", "FlowLogRole"),
}
MWAA_SERVICE_ACCOUNT = "111122223333"  # the Celery queue lives in MWAA's own account
LOGS_CONTEXT = "kms:EncryptionContext:aws:logs:arn"  # the log group CloudWatch Logs encrypts for


def via(service: str) -> dict[str, str]:
    """The context KMS sees when `service` calls it for one of this account's principals."""
    return {"kms:ViaService": f"{service}.{REGION}.amazonaws.com", "kms:CallerAccount": ACCOUNT}


@dataclass(frozen=True)
class KeyUse:
    what: str
    service: str  # the service whose resource the key encrypts
    principal: str
    actions: tuple[str, ...]
    context: dict[str, str] = field(default_factory=dict)


def _log_group_uses() -> list[KeyUse]:
    """CloudWatch Logs encrypts each log group as itself, naming the group in the context."""
    groups = [
        STAGE.property(stack, logical, "LogGroupName")
        for stack, template in STAGE.stacks.items()
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Logs::LogGroup"
    ]
    # MWAA creates one per Airflow component, with the environment's key.
    environment = STAGE.property("orchestration", "MwaaEnvironment", "Name")
    groups += [f"airflow-{environment}-{part}" for part in ("Task", "Scheduler", "Worker")]
    return [
        KeyUse(
            f"CloudWatch Logs writes and reads {group}",
            "logs",
            f"logs.{REGION}.amazonaws.com",
            ("kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"),
            {LOGS_CONTEXT: f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"},
        )
        for group in groups
    ]


KEY_USES = [
    # Zappa's CreateFunction / UpdateFunctionConfiguration with KMSKeyArn: Lambda encrypts the
    # environment and creates a grant for the function, as the caller (Lambda developer guide,
    # "Securing environment variables").
    KeyUse(
        "Lambda encrypts the function's environment",
        "lambda",
        DEPLOYER,
        ("kms:CreateGrant", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"),
        via("lambda"),
    ),
    # DynamoDB: the table's creator lets DynamoDB create its grant; readers and writers decrypt
    # the table key (DynamoDB developer guide, "How Amazon DynamoDB uses AWS KMS").
    KeyUse(
        "DynamoDB creates a table",
        "dynamodb",
        DEPLOYER,
        ("kms:CreateGrant", "kms:DescribeKey"),
        via("dynamodb"),
    ),
    KeyUse(
        "the API reads and writes its tables",
        "dynamodb",
        API,
        ("kms:Decrypt", "kms:DescribeKey"),
        via("dynamodb"),
    ),
    KeyUse(
        "the DAG exports the tasks table",
        "dynamodb",
        MWAA,
        ("kms:Decrypt", "kms:DescribeKey"),
        via("dynamodb"),
    ),
    # S3 with SSE-KMS: a writer needs GenerateDataKey, a reader Decrypt, through s3.
    KeyUse(
        "the deploy uploads the package and DAGs",
        "s3",
        DEPLOYER,
        ("kms:GenerateDataKey", "kms:Decrypt"),
        via("s3"),
    ),
    KeyUse(
        "the DAG (and the export, and Athena as the caller) writes the lake",
        "s3",
        MWAA,
        ("kms:GenerateDataKey", "kms:Decrypt"),
        via("s3"),
    ),
    KeyUse("MWAA reads the DAGs from its source bucket", "s3", MWAA, ("kms:Decrypt",), via("s3")),
    # Secrets Manager: created with GenerateDataKey, read with Decrypt.
    KeyUse(
        "CloudFormation generates the cursor secret",
        "secretsmanager",
        DEPLOYER,
        ("kms:GenerateDataKey", "kms:Decrypt"),
        via("secretsmanager"),
    ),
    KeyUse(
        "the API reads the cursor secret",
        "secretsmanager",
        API,
        ("kms:Decrypt",),
        via("secretsmanager"),
    ),
    # SNS: CloudWatch alarms publish to the encrypted topic as the CloudWatch service.
    KeyUse(
        "CloudWatch alarms publish to the alarm topic",
        "sns",
        "cloudwatch.amazonaws.com",
        ("kms:GenerateDataKey", "kms:Decrypt"),
        {"aws:SourceAccount": ACCOUNT},
    ),
    # SQS: MWAA's Celery queue, encrypted with the environment's key, used by the execution role.
    KeyUse(
        "MWAA's workers use the Celery queue",
        "sqs",
        MWAA,
        ("kms:GenerateDataKey", "kms:Decrypt"),
        via("sqs"),
    ),
    # MWAA: creating the environment with KmsKey creates grants as the caller through airflow.
    KeyUse(
        "MWAA creates the environment with the key",
        "airflow",
        DEPLOYER,
        ("kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"),
        via("airflow"),
    ),
    *_log_group_uses(),
]

# Where a template points at the key, which service encrypts with it.
SERVICE_OF = {
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::S3::Bucket": "s3",
    "AWS::Athena::WorkGroup": "s3",  # query results, written to S3 as the caller
    "AWS::SecretsManager::Secret": "secretsmanager",
    "AWS::SNS::Topic": "sns",
    "AWS::Logs::LogGroup": "logs",
    "AWS::MWAA::Environment": "airflow",
}


KEY_EXPORT = "tasklake-dev-kms-key-arn"


def _points_at_the_key(node: Any, stack: str) -> bool:
    """Whether any `ImportValue` under `node` imports the stage key's ARN."""
    if isinstance(node, Tag) and node.name == "ImportValue":
        return bool(STAGE.resolve(node.value, stack) == KEY_EXPORT)
    if isinstance(node, dict) and set(node) == {"Fn::ImportValue"}:
        return bool(STAGE.resolve(node["Fn::ImportValue"], stack) == KEY_EXPORT)
    children = node.values() if isinstance(node, dict) else node
    if isinstance(node, Tag):
        children = [node.value]
    if isinstance(children, (list, type({}.values()))):
        return any(_points_at_the_key(child, stack) for child in children)
    return False


def encrypting_services() -> dict[str, set[str]]:
    """Service → the resources (stack/logical id) whose properties import the stage key."""
    found: dict[str, set[str]] = {}
    for stack, template in STAGE.stacks.items():
        for logical, resource in template["Resources"].items():
            if resource["Type"] == "AWS::IAM::Role":
                continue  # grants use of the key, encrypts nothing
            if _points_at_the_key(resource.get("Properties", {}), stack):
                service = SERVICE_OF.get(resource["Type"], resource["Type"])
                found.setdefault(service, set()).add(f"{stack}/{logical}")
    return found


def test_every_resource_the_key_encrypts_has_its_use_listed() -> None:
    services = encrypting_services()
    exports = {name: f"<{name}>" for names in zappa_settings.EXPORTS.values() for name in names}
    function = zappa_settings.derive("dev", REGION, exports, {})
    if function.get("aws_kms_key_arn") == exports["kms-key-arn"]:
        services["lambda"] = {"zappa_settings.aws_kms_key_arn"}

    assert {"dynamodb", "s3", "secretsmanager", "sns", "logs", "airflow", "lambda"} <= set(services)
    assert set(services) <= {use.service for use in KEY_USES}, services


@pytest.mark.parametrize(
    ("use", "action"),
    [(use, action) for use in KEY_USES for action in use.actions],
    ids=[f"{use.what}: {action}" for use in KEY_USES for action in use.actions],
)
def test_the_key_policy_allows_every_use_of_the_key(use: KeyUse, action: str) -> None:
    request = Request(use.principal, action, STAGE.key_arn, use.context)
    identity = ROLE_POLICIES.get(use.principal)

    assert kms_decision(STAGE.key_policy, identity, request) == "Allow"


@pytest.mark.parametrize(
    "request_",
    [
        # Decrypting directly, not through a data service.
        Request(API, "kms:Decrypt", "<key>", {"kms:CallerAccount": ACCOUNT}),
        # Through a service the key is not for.
        Request(MWAA, "kms:Decrypt", "<key>", via("ec2")),
        # Another account's principal, even through a data service.
        Request("arn:aws:iam::999999999999:role/x", "kms:Decrypt", "<key>", via("s3")),
        # Another account's log group.
        Request(
            f"logs.{REGION}.amazonaws.com",
            "kms:Decrypt",
            "<key>",
            {LOGS_CONTEXT: f"arn:aws:logs:{REGION}:999999999999:log-group:x"},
        ),
        # Administering the key through a data service is not using it.
        Request(API, "kms:ScheduleKeyDeletion", "<key>", via("dynamodb")),
    ],
    ids=["direct", "other-service", "other-account", "other-accounts-logs", "admin-by-role"],
)
def test_the_key_policy_refuses_what_it_is_not_for(request_: Request) -> None:
    request = Request(request_.principal, request_.action, STAGE.key_arn, request_.context)
    identity = ROLE_POLICIES.get(request.principal, [])

    assert kms_decision(STAGE.key_policy, identity, request) != "Allow"


# --- the roles' own calls ---

LAKE = STAGE.export("tasklake-dev-lake-bucket")
SOURCE = STAGE.export("tasklake-dev-mwaa-source-bucket")
RESULTS = STAGE.export("tasklake-dev-athena-results-bucket")
DATABASE = STAGE.export("tasklake-dev-glue-database")
TASKS_TABLE = STAGE.export("tasklake-dev-tasks-table-arn")
ENVIRONMENT = STAGE.property("orchestration", "MwaaEnvironment", "Name")
# The workgroup the DAG runs in: the Airflow Variable's value, as the stack sets it.
DAG_WORKGROUP = STAGE.property("orchestration", "AthenaWorkgroupVariable", "Value")
DAG_RESULTS = STAGE.property(
    "analytics",
    "EtlAthenaWorkGroup",
    "WorkGroupConfiguration",
    "ResultConfiguration",
    "OutputLocation",
)
CATALOG = f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog"
DATABASE_ARN = f"arn:aws:glue:{REGION}:{ACCOUNT}:database/{DATABASE}"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group"
DAY = "year=2026/month=11/day=30"
TLS = {"aws:SecureTransport": "true"}  # every SDK call goes over HTTPS


def glue(action: str, table: str | None = None) -> list[tuple[str, str]]:
    """A Glue call is authorized on the catalog, the database and the table it names."""
    resources = [CATALOG, DATABASE_ARN]
    if table:
        resources.append(f"arn:aws:glue:{REGION}:{ACCOUNT}:table/{DATABASE}/{table}")
    return [(action, resource) for resource in resources]


def s3_object(bucket: str, key: str, *actions: str) -> list[tuple[str, str]]:
    return [(action, f"arn:aws:s3:::{bucket}/{key}") for action in actions]


@dataclass(frozen=True)
class Call:
    what: str
    principal: str
    grants: list[tuple[str, str]]  # (action, resource), every one needed
    context: dict[str, Any] = field(default_factory=dict)


def _results_key() -> str:
    prefix = DAG_RESULTS.removeprefix(f"s3://{RESULTS}/")
    return f"{prefix}0a1b2c3d-query-id.csv"


CALLS = [
    # The API function's runtime (its data calls: tests/infra/test_api_role.py).
    Call(
        "the function writes its log",
        API,
        [
            (action, f"{LOG_GROUP}:/aws/lambda/tasklake-dev:log-stream:2026/11/30/[$LATEST]0a1b")
            for action in ("logs:CreateLogStream", "logs:PutLogEvents")
        ],
    ),
    Call(
        "the function traces",
        API,
        [("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*")],
    ),
    Call(
        "API Gateway invokes the function with its own role",
        API_GATEWAY,
        [("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tasklake-dev")],
    ),
    Call(
        "the API reads the cursor secret",
        API,
        [("secretsmanager:GetSecretValue", STAGE.export("tasklake-dev-cursor-secret-arn"))],
    ),
    Call(
        "the API decrypts through Secrets Manager",
        API,
        [("kms:Decrypt", STAGE.key_arn)],
        via("secretsmanager"),
    ),
    Call(
        "the API decrypts through DynamoDB", API, [("kms:Decrypt", STAGE.key_arn)], via("dynamodb")
    ),
    # VPC flow logs deliver as the flow-log role.
    Call(
        "flow logs deliver",
        FLOW_LOGS,
        [
            (action, f"{LOG_GROUP}:/tasklake/dev/vpc-flow-logs:log-stream:eni-0a1b-all")
            for action in ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")
        ],
    ),
    # MWAA itself (user guide, "Amazon MWAA execution role").
    Call(
        "MWAA publishes its metrics",
        MWAA,
        [
            (
                "airflow:PublishMetrics",
                f"arn:aws:airflow:{REGION}:{ACCOUNT}:environment/{ENVIRONMENT}",
            )
        ],
    ),
    Call(
        "MWAA reads the DAGs and requirements",
        MWAA,
        [
            ("s3:ListBucket", f"arn:aws:s3:::{SOURCE}"),
            ("s3:GetBucketLocation", f"arn:aws:s3:::{SOURCE}"),
            *s3_object(SOURCE, "dags/tasks_daily.py", "s3:GetObject", "s3:GetObjectVersion"),
            ("s3:GetAccountPublicAccessBlock", "*"),
        ],
    ),
    Call(
        "MWAA writes and reads its task logs",
        MWAA,
        [
            ("logs:CreateLogGroup", f"{LOG_GROUP}:airflow-{ENVIRONMENT}-Task"),
            *[
                (action, f"{LOG_GROUP}:airflow-{ENVIRONMENT}-Task:log-stream:dag_id=tasks_daily/x")
                for action in ("logs:CreateLogStream", "logs:PutLogEvents", "logs:GetLogEvents")
            ],
            ("logs:DescribeLogGroups", "*"),
        ],
    ),
    Call(
        "MWAA sends its metrics",
        MWAA,
        [("cloudwatch:PutMetricData", "*")],
        {"cloudwatch:namespace": "AmazonMWAA"},
    ),
    Call(
        "workers use the Celery queue",
        MWAA,
        [
            (action, f"arn:aws:sqs:{REGION}:{MWAA_SERVICE_ACCOUNT}:airflow-celery-0a1b2c3d")
            for action in (
                "sqs:SendMessage",
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
            )
        ],
    ),
    Call(
        "the queue is encrypted with the key",
        MWAA,
        [("kms:GenerateDataKey", STAGE.key_arn), ("kms:Decrypt", STAGE.key_arn)],
        via("sqs"),
    ),
    Call(
        "the secrets backend reads the Variables",
        MWAA,
        [
            (
                "ssm:GetParameter",
                f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tasklake/dev/airflow/variables/tasklake_lake_bucket",
            )
        ],
    ),
    # The DAG (dags/tasks_daily.py, etl/).
    Call(
        "the DAG exports the tasks table",
        MWAA,
        [
            ("dynamodb:DescribeContinuousBackups", TASKS_TABLE),
            ("dynamodb:DescribeTable", TASKS_TABLE),
            ("dynamodb:ExportTableToPointInTime", TASKS_TABLE),
            ("dynamodb:DescribeExport", f"{TASKS_TABLE}/export/01764460800000-0a1b2c3d"),
            *s3_object(
                LAKE,
                "bronze/dynamodb/tasks/snapshot_date=2026-11-30/run=x/AWSDynamoDB/data/a.json.gz",
                "s3:PutObject",
                "s3:PutObjectAcl",
                "s3:AbortMultipartUpload",
            ),
        ],
    ),
    Call(
        "the DAG lists an export",
        MWAA,
        [("s3:ListBucket", f"arn:aws:s3:::{LAKE}")],
        {"s3:prefix": "bronze/dynamodb/tasks/snapshot_date=2026-11-30/"},
    ),
    Call(
        "the DAG stages and publishes a partition",
        MWAA,
        [
            *s3_object(
                LAKE,
                f"silver/tasks/{DAY}/run=x/part-0.parquet",
                "s3:PutObject",
                "s3:GetObject",
                "s3:PutObjectTagging",
            ),
            *s3_object(LAKE, f"gold/user_daily_stats/{DAY}/run=x/part-0.parquet", "s3:PutObject"),
            *glue("glue:GetTable", "tasks"),
            *glue("glue:GetPartition", "tasks"),
            *glue("glue:CreatePartition", "tasks"),
            *glue("glue:UpdatePartition", "tasks"),
            *glue("glue:UpdateTable", "tasks_latest"),
        ],
    ),
    Call(
        "the DAG sends its run metrics",
        MWAA,
        [("cloudwatch:PutMetricData", "*")],
        {"cloudwatch:namespace": "Tasklake/ETL"},
    ),
    Call(
        "the DAG runs its Athena queries in its workgroup",
        MWAA,
        [
            (action, f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{DAG_WORKGROUP}")
            for action in (
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:StopQueryExecution",
            )
        ],
    ),
    # What Athena calls as the caller for the DAG's statements (Athena user guide, "Access to
    # Amazon S3" and "Configure access to databases and tables in the AWS Glue Data Catalog").
    Call(
        "Athena resolves the database and tables",
        MWAA,
        [
            *glue("glue:GetDatabase"),
            *glue("glue:GetDatabases"),
            *glue("glue:GetTable", "tasks_daily_bronze_manual_x_1"),
            *glue("glue:GetPartitions", "tasks"),
            *glue("glue:CreateTable", "tasks_daily_bronze_manual_x_1"),
            *glue("glue:CreateTable", "tasks_ctas_manual_x_1"),
            *glue("glue:DeleteTable", "tasks_ctas_manual_x_1"),
        ],
    ),
    Call(
        "Athena reads the export and writes the CTAS",
        MWAA,
        [
            ("s3:GetBucketLocation", f"arn:aws:s3:::{LAKE}"),
            *s3_object(
                LAKE,
                "bronze/dynamodb/tasks/snapshot_date=2026-11-30/run=x/AWSDynamoDB/data/a.json.gz",
                "s3:GetObject",
            ),
            *s3_object(
                LAKE,
                f"silver/tasks/{DAY}/run=x/20261130_000000_0a1b",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
            ),
        ],
    ),
    Call(
        "Athena lists the export's folder",
        MWAA,
        [("s3:ListBucket", f"arn:aws:s3:::{LAKE}")],
        {"s3:prefix": "bronze/dynamodb/tasks/snapshot_date=2026-11-30/run=x/AWSDynamoDB/data/"},
    ),
    Call(
        "Athena lists the CTAS's empty staging folder",
        MWAA,
        [("s3:ListBucket", f"arn:aws:s3:::{LAKE}")],
        {"s3:prefix": f"silver/tasks/{DAY}/run=x/"},
    ),
    Call(
        "Athena writes and reads the query results",
        MWAA,
        [
            ("s3:GetBucketLocation", f"arn:aws:s3:::{RESULTS}"),
            ("s3:ListBucket", f"arn:aws:s3:::{RESULTS}"),
            *s3_object(
                RESULTS, _results_key(), "s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"
            ),
        ],
    ),
    Call(
        "Athena encrypts the results and CTAS files",
        MWAA,
        [("kms:GenerateDataKey", STAGE.key_arn), ("kms:Decrypt", STAGE.key_arn)],
        via("s3"),
    ),
]


@pytest.mark.parametrize(
    ("call", "grant"),
    [(call, grant) for call in CALLS for grant in call.grants],
    ids=[f"{call.what}: {action} {resource}" for call in CALLS for action, resource in call.grants],
)
def test_each_role_allows_the_calls_its_component_makes(call: Call, grant: tuple[str, str]) -> None:
    action, resource = grant
    request = Request(call.principal, action, resource, {**call.context, **TLS})

    assert decide(ROLE_POLICIES[call.principal], request) == "Allow"
    if resource.startswith("arn:aws:s3:::"):  # and the bucket's own policy denies nothing of it
        bucket = resource.removeprefix("arn:aws:s3:::").split("/")[0]
        assert decide(STAGE.bucket_policy(bucket), request) != "ExplicitDeny"


def test_a_bucket_policy_denies_the_same_call_over_plain_http() -> None:
    key = f"silver/tasks/{DAY}/run=x/part-0.parquet"
    request = Request(MWAA, "s3:PutObject", f"arn:aws:s3:::{LAKE}/{key}", TLS)
    plain = Request(MWAA, "s3:PutObject", request.resource, {"aws:SecureTransport": "false"})

    assert decide(ROLE_POLICIES[MWAA], request) == "Allow"
    assert decide(STAGE.bucket_policy(LAKE), request) == "ImplicitDeny"  # the role's call
    assert decide(STAGE.bucket_policy(LAKE), plain) == "ExplicitDeny"


@pytest.mark.parametrize(
    ("principal", "action", "resource", "context"),
    [
        # The analysts' workgroup is not the DAG's.
        (
            MWAA,
            "athena:StartQueryExecution",
            f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/tasklake-dev",
            {},
        ),
        # Only the per-attempt tables may be dropped.
        (MWAA, "glue:DeleteTable", f"arn:aws:glue:{REGION}:{ACCOUNT}:table/{DATABASE}/tasks", {}),
        # No listing of the whole lake, and MWAA's explicit deny on listing every bucket.
        (MWAA, "s3:ListBucket", f"arn:aws:s3:::{LAKE}", {"s3:prefix": ""}),
        (MWAA, "s3:ListAllMyBuckets", f"arn:aws:s3:::{SOURCE}", {}),
        # Metrics only in the two namespaces.
        (MWAA, "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Other"}),
        # The API never decrypts directly.
        (API, "kms:Decrypt", STAGE.key_arn, {}),
        # API Gateway's role invokes the function and touches no data.
        (API_GATEWAY, "dynamodb:PutItem", STAGE.export("tasklake-dev-tasks-table-arn"), {}),
        (
            API_GATEWAY,
            "cognito-idp:AdminDeleteUser",
            STAGE.export("tasklake-dev-user-pool-arn"),
            {},
        ),
        (
            API_GATEWAY,
            "lambda:InvokeFunction",
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tasklake-prod",
            {},
        ),
    ],
    ids=[
        "analysts-workgroup",
        "drop-a-lake-table",
        "list-the-lake",
        "list-all-buckets",
        "other-namespace",
        "direct-decrypt",
        "api-gateway-writes-a-table",
        "api-gateway-deletes-a-user",
        "api-gateway-invokes-another-stage",
    ],
)
def test_the_roles_refuse_what_their_components_do_not_do(
    principal: str, action: str, resource: str, context: dict[str, Any]
) -> None:
    assert (
        decide(ROLE_POLICIES[principal], Request(principal, action, resource, context)) != "Allow"
    )


# The trust policies: who may assume each API role. API Gateway passes the calling API's ARN and
# account as aws:SourceArn / aws:SourceAccount (confused-deputy prevention:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourcearn).
OUR_API = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3d4e5/dev/POST/auth/token"
OUR_CALLER = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": OUR_API}


def _may_assume(logical: str, service: str, context: dict[str, str]) -> bool:
    role = STAGE.role_arn("api", logical)
    trust = STAGE.property("api", logical, "AssumeRolePolicyDocument")["Statement"]
    statements = [{**statement, "Resource": role} for statement in trust]
    return decide(statements, Request(service, "sts:AssumeRole", role, context)) == "Allow"


def test_only_lambda_assumes_the_functions_role() -> None:
    assert _may_assume("ApiRole", "lambda.amazonaws.com", {})
    assert not _may_assume("ApiRole", "apigateway.amazonaws.com", OUR_CALLER)


@pytest.mark.parametrize(
    ("context", "allowed"),
    [
        (OUR_CALLER, True),
        ({}, False),  # no source named
        ({**OUR_CALLER, "aws:SourceAccount": "444455556666"}, False),
        (
            {
                "aws:SourceAccount": "444455556666",
                "aws:SourceArn": f"arn:aws:execute-api:{REGION}:444455556666:evil/dev/GET/x",
            },
            False,
        ),  # another account's API
    ],
    ids=["our-api", "no-source", "other-account", "other-accounts-api"],
)
def test_api_gateway_assumes_its_role_only_for_our_apis(
    context: dict[str, str], allowed: bool
) -> None:
    assert _may_assume("ApiGatewayInvokeRole", "apigateway.amazonaws.com", context) is allowed
    assert not _may_assume("ApiGatewayInvokeRole", "lambda.amazonaws.com", {})
