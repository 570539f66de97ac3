"""The Cognito error table (api/auth/cognito_errors.py) names only real calls and the error
codes Cognito documents for each: a typo there would silently turn a caller's mistake into
a 503. Read from botocore's own service model of cognito-idp, the API reference's source
(https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/CommonErrors.html
lists the errors every call may return besides its own)."""

from __future__ import annotations

import boto3

from api.auth.cognito_errors import ANSWERS

# Errors any call may return, not listed per operation (the CommonErrors page above).
COMMON_ERRORS = {"NotAuthorizedException"}
# Codes the table answers although the model does not list them for that call, each known:
UNLISTED = {
    # cognito-local's answer to a wrong password
    ("initiate_auth", "InvalidPasswordException"),
    # the code checks of confirm_forgot_password, shared whole
    ("confirm_sign_up", "InvalidPasswordException"),
    # the email is another account's alias: the same answer as a taken email
    ("sign_up", "AliasExistsException"),
}


def test_every_call_in_the_table_is_a_cognito_operation_with_those_errors() -> None:
    client = boto3.client("cognito-idp", region_name="us-east-1")
    model, to_api = client.meta.service_model, client.meta.method_to_api_mapping

    unknown = {}
    for method, answers in ANSWERS.items():
        assert method in to_api, f"{method} is no cognito-idp call"
        assert getattr(client, method).__name__ == method  # what identity._call looks up
        documented = {shape.name for shape in model.operation_model(to_api[method]).error_shapes}
        listed = documented | COMMON_ERRORS | {code for call, code in UNLISTED if call == method}
        unknown[method] = set(answers) - listed

    assert {method: codes for method, codes in unknown.items() if codes} == {}
