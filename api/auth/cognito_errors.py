"""What each Cognito call's refusals mean to the caller: one table, by call and error code.

A code the table names for a call is an outcome the caller caused (a taken email, a wrong
password or code) and gets its own problem, or, where the table says `EXPECTED`, no problem
at all: the call returns None. Every other code is an upstream failure, answered by
api/upstream.py like any AWS call's. Cognito's own wording never reaches the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from api import metrics, upstream
from api.problems import (
    AccountNotConfirmed,
    ApiProblem,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)

BAD_CREDENTIALS = "Incorrect email or password"
# Cognito's lockout answers NotAuthorizedException with this message; its lockout lasts
# 2^(failures - 5) seconds, up to about 15 minutes, and ends after 15 quiet minutes
# (https://docs.aws.amazon.com/cognito/latest/developerguide/authentication.html#authentication-flow-lockout-behavior).
COGNITO_LOCKOUT_MESSAGE = "password attempts exceeded"
LOCKOUT_RETRY_AFTER_SECONDS = 60
# A wrong, expired or already used code, or an unknown email: one answer, no enumeration.
BAD_CODE = "The code is wrong or has expired"


class PasswordResetRequired(Forbidden):
    type = "urn:tasklake:problem:password-reset-required"


class PasswordAttemptsExceeded(TooManyRequests):
    """Cognito's own lockout of the account after repeated wrong passwords, from anywhere."""

    type = "urn:tasklake:problem:password-attempts-exceeded"


def refuses_our_secret(error: ClientError) -> bool:
    """Cognito's answer to a missing or wrong SECRET_HASH: our configuration, not the caller."""
    return upstream.error_code(error) == "NotAuthorizedException" and (
        "secret" in upstream.error_message(error)
    )


# The problem for one refusal, from the error and the call's parameters.
Answer = Callable[[ClientError, Mapping[str, Any]], ApiProblem]
EXPECTED = None  # not a problem: the call returns None


def _email_taken(*_: Any) -> ApiProblem:
    return Conflict("An account with this email already exists")


def _weak_password(*_: Any) -> ApiProblem:
    return Unprocessable(
        "The password does not meet the password policy",
        errors={"json": {"password": ["Does not meet the password policy."]}},
    )


def _details_rejected(*_: Any) -> ApiProblem:
    return Unprocessable("The identity provider rejected these details")


def _wrong_password(error: ClientError, _: Mapping[str, Any]) -> ApiProblem:
    lockout = COGNITO_LOCKOUT_MESSAGE in upstream.error_message(error)
    if lockout and upstream.error_code(error) == "NotAuthorizedException":  # never checked
        return PasswordAttemptsExceeded(
            "Too many wrong passwords for this account: sign-ins are paused for up to"
            " 15 minutes. Reset the password (POST /auth/password/forgot) to stop them",
            retry_after=LOCKOUT_RETRY_AFTER_SECONDS,
        )
    # One answer for unknown user and wrong password: no account enumeration.
    metrics.count(metrics.LOGINS_FAILED)
    return Unauthorized(BAD_CREDENTIALS)


def _not_confirmed(*_: Any) -> ApiProblem:
    return AccountNotConfirmed(
        "The account is not confirmed yet: send the emailed code to /users/confirm"
    )


def _reset_required(*_: Any) -> ApiProblem:
    return PasswordResetRequired("This account's password must be reset before it can sign in")


def _refresh_token_refused(*_: Any) -> ApiProblem:
    return Unauthorized("The refresh token is invalid, expired or revoked")


def _not_a_refresh_token(*_: Any) -> ApiProblem:
    return Unprocessable(
        "That is not a refresh token of this client",
        errors={"json": {"refresh_token": ["Not a refresh token of this client"]}},
    )


def _bad_code(*_: Any) -> ApiProblem:
    return Unprocessable(BAD_CODE, errors={"json": {"code": [BAD_CODE]}})


def _new_password_rejected(*_: Any) -> ApiProblem:
    return Unprocessable(
        "The identity provider rejected the new password",
        errors={"json": {"new_password": ["Does not meet the password policy"]}},
    )


def _current_password_wrong(*_: Any) -> ApiProblem:
    return Unprocessable(
        "The current password is not correct",
        errors={"json": {"current_password": ["Incorrect password"]}},
    )


def _user_not_found(_: ClientError, call: Mapping[str, Any]) -> ApiProblem:
    return NotFound(f"User {call['Username']} was not found")


_CODE_CHECKS: dict[str, Answer | None] = {
    "CodeMismatchException": _bad_code,
    "ExpiredCodeException": _bad_code,
    "UserNotFoundException": _bad_code,
    "NotAuthorizedException": _bad_code,
    "InvalidPasswordException": _new_password_rejected,
}
# Admin calls on one user by `sub` (ADR 0003): an unknown user is a 404.
_ON_ONE_USER: dict[str, Answer | None] = {"UserNotFoundException": _user_not_found}
# Calls that mail a code: a caller who cannot get one is silently skipped (no enumeration).
_MAILS_A_CODE: dict[str, Answer | None] = {
    "UserNotFoundException": EXPECTED,
    "InvalidParameterException": EXPECTED,
}

# By boto3 method name; a call absent here has no outcome of the caller's making.
ANSWERS: dict[str, dict[str, Answer | None]] = {
    "sign_up": {
        "UsernameExistsException": _email_taken,
        "AliasExistsException": _email_taken,
        "InvalidPasswordException": _weak_password,
        "InvalidParameterException": _details_rejected,
    },
    "initiate_auth": {
        "NotAuthorizedException": _wrong_password,
        "UserNotFoundException": _wrong_password,
        "InvalidPasswordException": _wrong_password,
        "UserNotConfirmedException": _not_confirmed,
        "PasswordResetRequiredException": _reset_required,
    },
    "get_tokens_from_refresh_token": {
        "NotAuthorizedException": _refresh_token_refused,
        "UserNotFoundException": _refresh_token_refused,
    },
    # NotAuthorizedException: a token Cognito never issued, or already revoked.
    "revoke_token": {
        "NotAuthorizedException": _not_a_refresh_token,
        "UnsupportedTokenTypeException": _not_a_refresh_token,
        "InvalidParameterException": _not_a_refresh_token,
    },
    "confirm_sign_up": _CODE_CHECKS,
    "confirm_forgot_password": _CODE_CHECKS,
    "resend_confirmation_code": _MAILS_A_CODE,
    "forgot_password": {**_MAILS_A_CODE, "NotAuthorizedException": EXPECTED},
    # Cognito: NotAuthorizedException; cognito-local: InvalidPasswordException.
    "change_password": {
        "NotAuthorizedException": _current_password_wrong,
        "InvalidPasswordException": _current_password_wrong,
    },
    # Looking an account up: none is an answer, not an error.
    "admin_get_user": {"UserNotFoundException": EXPECTED},
    # Deleting one that is gone already is done.
    "admin_delete_user": {"UserNotFoundException": EXPECTED},
    "admin_user_global_sign_out": _ON_ONE_USER,
    "admin_enable_user": _ON_ONE_USER,
    "admin_disable_user": _ON_ONE_USER,
}


def answers(operation: str, error: ClientError) -> bool:
    """Whether the table names this refusal of `operation` (else: an upstream failure)."""
    return (upstream.error_code(error) or "") in ANSWERS.get(operation, {})


def problem_for(operation: str, error: ClientError, call: Mapping[str, Any]) -> ApiProblem | None:
    """The table's problem for a refusal it names; None where that refusal is expected."""
    answer = ANSWERS[operation][upstream.error_code(error) or ""]
    return None if answer is None else answer(error, call)
