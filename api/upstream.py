"""What the client is told when an AWS call fails: one table for DynamoDB, Cognito, Secrets Manager.

| upstream outcome                                  | answer                                  |
|---------------------------------------------------|-----------------------------------------|
| throttled (capacity, request rate, service limit) | 429 + Retry-After                       |
| unreachable, timed out, erroring, tx conflict     | 503 + Retry-After                       |
| denied, unknown table/pool, no credentials        | 500 misconfigured (an operator's fix)   |
| request rejected as malformed                     | 500 (our bug), logged with its trace    |
| the caller's details rejected (Cognito)           | 422, naming the error code              |

Expected outcomes (conditions, missing items, wrong passwords) are handled where
they happen; only what is left reaches `problem_for`.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from pynamodb.exceptions import PynamoDBException, TransactGetError, TransactWriteError

from api.problems import (
    ApiProblem,
    ConfigurationError,
    InternalError,
    ServiceUnavailable,
    TooManyRequests,
    Unprocessable,
)

THROTTLED = frozenset(
    {
        "TooManyRequestsException",
        "LimitExceededException",
        # Cognito: too many wrong codes or passwords for one user (confirm, reset, change)
        "TooManyFailedAttemptsException",
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        # TransactWriteItems' per-item cancellation reasons
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
    }
)
MISCONFIGURED = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "ResourceNotFoundException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "KMSAccessDeniedException",
        "KMSNotFoundException",
    }
)
MALFORMED = frozenset({"ValidationException", "SerializationException", "ValidationError"})
# Cognito refusing what the caller sent (a value its limits or triggers refuse) where the
# caller did not expect it: the caller's to fix, never "try again later".
REJECTED = frozenset(
    {
        "InvalidParameterException",
        "PasswordHistoryPolicyViolationException",
        "UserLambdaValidationException",
        "UnsupportedUserStateException",
    }
)
THROTTLED_RETRY_AFTER_SECONDS = 1
# A single write refused by its condition: an expected outcome, answered where it happens
# (api/storage.py `conditional_update`).
CONDITION_FAILED = "ConditionalCheckFailedException"


def _codes(error: BaseException) -> set[str]:
    """The error code, and for a cancelled transaction each item's reason."""
    if isinstance(error, TransactWriteError | TransactGetError):
        reasons = {reason.code for reason in error.cancellation_reasons if reason}
        return reasons | _codes(error.cause) if error.cause else reasons
    code = error_code(error)
    return set() if code is None else {code}


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, or of the one behind a PynamoDB error;
    None when AWS never answered (a timeout, no connection).

    PynamoDB's own `cause_response_code` raises AttributeError when the cause is a timeout
    (botocore sets its `response` to None): a hung table must still be answered 503.
    """
    while isinstance(error, PynamoDBException) and error.cause is not None:
        error = error.cause
    if not isinstance(error, ClientError):
        return None
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    """The AWS error message, lowercased: what tells some of Cognito's answers apart."""
    return str(error.response.get("Error", {}).get("Message", "")).lower()


def problem_for(error: BaseException, what: str) -> ApiProblem:
    """The problem that answers a failed call to `what` ("task store", "identity provider"…)."""
    codes = _codes(error)
    if codes & THROTTLED:
        return TooManyRequests(
            f"The {what} is busy; retry shortly", retry_after=THROTTLED_RETRY_AFTER_SECONDS
        )
    if codes & MISCONFIGURED or isinstance(
        error, NoCredentialsError | PartialCredentialsError | NoRegionError
    ):
        return ConfigurationError(f"The {what} refused this deployment's credentials or names")
    if codes & MALFORMED:
        return InternalError("An unexpected error occurred; it has been logged")
    if codes & REJECTED:
        code = min(codes & REJECTED)
        return Unprocessable(f"The {what} rejected the details sent ({code}); check them")
    reached_aws = isinstance(error, ClientError | BotoCoreError) or (
        isinstance(error, PynamoDBException) and error.cause is not None
    )
    if reached_aws:
        return ServiceUnavailable(f"The {what} is unavailable; try again")
    return InternalError("An unexpected error occurred; it has been logged")
