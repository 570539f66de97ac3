"""Names `make lint`'s dead-code check (vulture) cannot see being used, each with its reason.

vulture reads the code, it does not run it: a name that only a framework, a protocol or
`getattr` reaches looks unused to it. Handlers a decorator registers are covered in
pyproject.toml (`[tool.vulture] ignore_decorators`); the rest are named here, in vulture's
whitelist form (`_.name` for an attribute). A name that is really unused does not belong here:
delete the code. The file is read by vulture, never imported or run.
"""

# Response fields: a dataclass or marshmallow field read by the serializer, not by name.
id_token  # api/auth/identity.py Tokens, api/auth/schemas.py TokenSchema
current_password  # api/auth/schemas.py PasswordChangeSchema
next_cursor  # api/tasks/schemas.py, api/users/schemas.py page schemas
meaning  # etl/run_metrics.py MetricDefinition: what the metric says, beside it
attribute_types  # tests/infra/test_data_template.py TableDefinition, compared whole

# Library hooks and options: marshmallow, apispec, flask-smorest, Flask's MethodView, PynamoDB.
_._serialize  # marshmallow Field
Converter  # apispec MarshmallowPlugin
_.handle_http_exception  # flask-smorest Api
decorators  # flask MethodView
abstract  # PynamoDB Meta
connect_timeout_seconds  # PynamoDB Meta
read_timeout_seconds  # PynamoDB Meta
max_retry_attempts  # PynamoDB Meta
ordered  # marshmallow Schema Meta (api/smorest.py)

# Protocols: attributes and methods the standard library or a library calls.
traceback  # infra/local/progress.py __exit__'s third parameter
_.create_system  # zipfile.ZipInfo fields (infra/package/artifact.py)
_.external_attr
_.compress_type
_.do_GET  # http.server handlers (tests: a JWKS server, the MWAA stand-in)
_.do_POST
_.log_message
_.RequestHandlerClass
_.handle_starttag  # html.parser (tests/api/test_swagger_ui.py)
_.whitespace_split  # shlex (tests/docs/markdown.py)
_.commenters
ThrowawayUser  # schemathesis auth providers, registered by their decorator (tests/fuzz)
FuzzUser
_.cross_stack_resources  # moto's own attributes, set by the patched server (tests/infra)
_.output_map
_.yaml_tag_constructor
http_response  # a botocore event handler's keyword parameter (tests/dags/test_publish.py)

# Tests: fixtures asked for their effect, methods reached by getattr, stand-ins only read.
hung_dynamodb  # tests/api/test_hung_engines.py
logging_restored  # tests/api/test_logging.py
_.api_get  # tests/bench/api_latency.py: getattr(self, f"api_{operation}")
_.api_list
_.api_patch
_.raw_get
_.raw_list
_.raw_patch
_.screenshot  # tests/infra/test_test_markers.py: a stand-in whose code is read, not run

# Dead code in files other work owns this round; delete each (and its line here) after merging.
_.forget  # infra/deploy/outputs.py Outputs.forget: never called
_Skip  # infra/deploy/run.py: never raised or caught
Invoke  # tests/package/conftest.py: a type alias nothing uses

# Read by name, not by attribute: vulture cannot follow these.
_.pending_session_check  # api/auth/session_check.py: set on flask.g, read back with g.pop(name)
api_gateway_uses_its_own_role  # infra/deploy/zappa_callbacks.py: named in zappa_settings.json
median_ms  # tests/bench/api_latency.py Timing: read with getattr(timing, which) by the table
p99_ms  # tests/bench/api_latency.py Timing: likewise
own_day  # tests/api/test_rate_limits.py: a fixture asked for its side effect (a day of its own)
