"""Amazon Cognito as the identity provider: accounts, passwords, sign-in and sessions.

The boto3 client is created on first use and reused across Lambda invocations;
its endpoint comes from `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER` when set
(the local emulator), otherwise from the region.

The app client has a secret (ADR 0003): every call made without an access token proves it,
as a SECRET_HASH or the secret itself, so nobody holding only the public client id can call
Cognito around the API's limits. The secret is read from the client's description on the
first call that needs it and kept for the life of the container.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import boto3
import jwt
from botocore.exceptions import BotoCoreError, ClientError

from api import deadline, metrics, upstream
from api.caller import caller_ip
from api.compensation import undone_on_failure
from api.config import Settings
from api.problems import (
    AccountNotConfirmed,
    ConfigurationError,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)

# The pool's password policy; infra/identity.yaml and the local stack create the pool from
# `password_policy()`, and the sign-up schema checks the same rules, so the answer never
# depends on the emulator. Each rule: (Cognito PasswordPolicy flag, regex, how we say it).
PASSWORD_MIN_LENGTH = 8
PASSWORD_RULES: tuple[tuple[str, str, str], ...] = (
    ("RequireLowercase", r"[a-z]", "a lowercase letter"),
    ("RequireUppercase", r"[A-Z]", "an uppercase letter"),
    ("RequireNumbers", r"[0-9]", "a digit"),
)
COGNITO_PASSWORD_FLAGS = (
    "RequireLowercase",
    "RequireUppercase",
    "RequireNumbers",
    "RequireSymbols",
)
# The same rules as one ECMA-262 pattern for the OpenAPI spec ([\s\S]: newlines too).
PASSWORD_PATTERN = "^" + "".join(f"(?=[\\s\\S]*{rule})" for _, rule, _ in PASSWORD_RULES)
BAD_CREDENTIALS = "Incorrect email or password"
# Cognito's lockout answers NotAuthorizedException with this message; its lockout lasts
# 2^(failures - 5) seconds, up to about 15 minutes, and ends after 15 quiet minutes
# (https://docs.aws.amazon.com/cognito/latest/developerguide/authentication.html#authentication-flow-lockout-behavior).
COGNITO_LOCKOUT_MESSAGE = "password attempts exceeded"
LOCKOUT_RETRY_AFTER_SECONDS = 60
# The accounts ForgotPassword mails a code to.
MAILED_RESET_STATUSES = ("CONFIRMED", "RESET_REQUIRED")
# A wrong, expired or already used code, or an unknown email: one answer, no enumeration.
BAD_CODE = "The code is wrong or has expired"
CODE_ERRORS = (
    "CodeMismatchException",
    "ExpiredCodeException",
    "UserNotFoundException",
    "NotAuthorizedException",
)


class PasswordResetRequired(Forbidden):
    type = "urn:tasklake:problem:password-reset-required"


class PasswordAttemptsExceeded(TooManyRequests):
    """Cognito's own lockout of the account after repeated wrong passwords, from anywhere."""

    type = "urn:tasklake:problem:password-attempts-exceeded"


class ChallengeRequired(Forbidden):
    """Cognito wants more than a password (a new password, MFA): this API offers no such step."""

    type = "urn:tasklake:problem:sign-in-challenge"


def password_policy() -> dict[str, int | bool]:
    """The rules above as a Cognito `PasswordPolicy`, the form the user pool declares them in."""
    required = {flag for flag, _, _ in PASSWORD_RULES}
    flags = {flag: flag in required for flag in COGNITO_PASSWORD_FLAGS}
    return {"MinimumLength": PASSWORD_MIN_LENGTH, **flags}


def password_problems(password: str) -> list[str]:
    too_short = len(password) < PASSWORD_MIN_LENGTH
    problems = [f"at least {PASSWORD_MIN_LENGTH} characters"] if too_short else []
    problems += [what for _, pattern, what in PASSWORD_RULES if not re.search(pattern, password)]
    return problems


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str | None
    refresh_token: str | None
    expires_in: int


# The calls made for a caller who has no token yet. Cognito's threat protection scores them
# by the address in UserContextData (the app client sets EnablePropagateAdditionalUserContextData,
# infra/identity.yaml); without it, every sign-in would come from Lambda's own address.
USER_CONTEXT_OPERATIONS = (
    "SignUp",
    "ConfirmSignUp",
    "ResendConfirmationCode",
    "InitiateAuth",
    "ForgotPassword",
    "ConfirmForgotPassword",
)


def _add_user_context(params: dict[str, Any], **_: Any) -> None:
    """botocore's provide-client-params hook: name the caller's address on the call."""
    ip = caller_ip()
    if ip is not None:
        params.setdefault("UserContextData", {"IpAddress": ip})


@functools.cache
def _client(region: str) -> Any:
    client = boto3.client(
        "cognito-idp", region_name=region, config=deadline.COGNITO.botocore_config()
    )
    service = client.meta.service_model.service_id.hyphenize()
    for operation in USER_CONTEXT_OPERATIONS:
        client.meta.events.register(
            f"provide-client-params.{service}.{operation}",
            _add_user_context,
            unique_id=f"tasklake-user-context-{operation}",
        )
    return deadline.guard(client, deadline.COGNITO)


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    """Cognito's SECRET_HASH: Base64(HMAC-SHA256(client secret, username + client id))."""
    message = (username + client_id).encode()
    return base64.b64encode(
        hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    ).decode()


@functools.cache
def _client_secret(region: str, pool_id: str, client_id: str) -> str:
    """One DescribeUserPoolClient per container, on the first call that needs the secret."""
    try:
        described = _call(
            _client(region).describe_user_pool_client, UserPoolId=pool_id, ClientId=client_id
        )
    except ClientError as error:
        problem = upstream.problem_for(error, "identity provider")
        if problem.status == 500 or upstream.error_code(error) == "ResourceNotFoundException":
            problem = ConfigurationError(
                "COGNITO_CLIENT_ID names no app client of COGNITO_USER_POOL_ID we may describe"
            )
        raise problem from error
    secret = described["UserPoolClient"].get("ClientSecret")
    if not secret:
        raise ConfigurationError("The app client COGNITO_CLIENT_ID names has no secret")
    return str(secret)


def _refuses_our_secret(error: ClientError) -> bool:
    """Cognito's answer to a missing or wrong SECRET_HASH: our configuration, not the caller."""
    return upstream.error_code(
        error
    ) == "NotAuthorizedException" and "secret" in upstream.error_message(error)


def _is_cognito_lockout(error: ClientError) -> bool:
    """Not a wrong password: the password was not even checked."""
    message = upstream.error_message(error)
    return (
        upstream.error_code(error) == "NotAuthorizedException"
        and COGNITO_LOCKOUT_MESSAGE in message
    )


def _unavailable(error: Exception) -> NoReturn:
    raise upstream.problem_for(error, "identity provider") from error


def _call(operation: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return operation(**kwargs)
    except BotoCoreError as error:
        _unavailable(error)
    except ClientError as error:
        if _refuses_our_secret(error):
            raise ConfigurationError("Cognito refused the app client's secret") from error
        raise


def _tokens(result: dict[str, Any], refresh_token: str | None = None) -> Tokens:
    access = result["AccessToken"]
    expires_in = result.get("ExpiresIn")
    if expires_in is None:
        claims = jwt.decode(access, options={"verify_signature": False})
        expires_in = int(claims["exp"]) - int(claims["iat"])
    return Tokens(
        access_token=access,
        id_token=result.get("IdToken"),
        refresh_token=result.get("RefreshToken", refresh_token),
        expires_in=int(expires_in),
    )


class IdentityProvider:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def _cognito(self) -> Any:
        return _client(self._settings.region)

    @property
    def _client_id(self) -> str:
        return self._settings.require("cognito_client_id")

    def _client_secret(self) -> str:
        pool_id = self._settings.require("cognito_user_pool_id")
        return _client_secret(self._settings.region, pool_id, self._client_id)

    def _secret_hash(self, username: str) -> str:
        return secret_hash(self._client_secret(), username, self._client_id)

    def register(self, email: str, password: str, name: str) -> str:
        """Create a user; returns its `sub`, the user id everywhere else.

        Where the stage requires verification Cognito mails a code (`confirm`); elsewhere
        the account is confirmed at once.
        """
        pool_id = self._settings.require("cognito_user_pool_id")
        try:
            result = _call(
                self._cognito.sign_up,
                ClientId=self._client_id,
                SecretHash=self._secret_hash(email),
                Username=email,
                Password=password,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "name", "Value": name},
                ],
            )
        except ClientError as error:
            code = upstream.error_code(error)
            if code in ("UsernameExistsException", "AliasExistsException"):
                raise Conflict("An account with this email already exists") from None
            # Cognito's own wording stays in our logs' cause chain, never in the answer.
            if code == "InvalidPasswordException":
                raise Unprocessable(
                    "The password does not meet the password policy",
                    errors={"json": {"password": ["Does not meet the password policy."]}},
                ) from error
            if code == "InvalidParameterException":
                raise Unprocessable("The identity provider rejected these details") from error
            _unavailable(error)
        user_id = str(result["UserSub"])
        if self._settings.require_email_verification:
            # Unconfirmed until the emailed code comes back (`confirm`). Whatever fails after
            # this point (the profile write) is undone by the caller (api/users/service.py).
            metrics.count(metrics.CODE_EMAILS_SENT)
            return user_id
        with undone_on_failure(
            lambda: self.delete(user_id),
            leaves=f"unconfirmed Cognito user {user_id}",
            undo_seconds=deadline.COGNITO.attempt_seconds,
        ):
            # No e-mail round trip in this stage: the account is usable at once (ADR 0003).
            try:
                _call(self._cognito.admin_confirm_sign_up, UserPoolId=pool_id, Username=user_id)
            except ClientError as error:
                _unavailable(error)
        return user_id

    def authenticate(self, email: str, password: str) -> Tokens:
        try:
            result = _call(
                self._cognito.initiate_auth,
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={
                    "USERNAME": email,
                    "PASSWORD": password,
                    "SECRET_HASH": self._secret_hash(email),
                },
            )
        except ClientError as error:
            if _is_cognito_lockout(error):
                raise PasswordAttemptsExceeded(
                    "Too many wrong passwords for this account: sign-ins are paused for up to"
                    " 15 minutes. Reset the password (POST /auth/password/forgot) to stop them",
                    retry_after=LOCKOUT_RETRY_AFTER_SECONDS,
                ) from None
            # One answer for unknown user and wrong password: no account enumeration.
            if upstream.error_code(error) in (
                "NotAuthorizedException",
                "UserNotFoundException",
                "InvalidPasswordException",
            ):
                metrics.count(metrics.LOGINS_FAILED)
                raise Unauthorized(BAD_CREDENTIALS) from None
            if upstream.error_code(error) == "UserNotConfirmedException":
                raise AccountNotConfirmed(
                    "The account is not confirmed yet: send the emailed code to /users/confirm"
                ) from None
            if upstream.error_code(error) == "PasswordResetRequiredException":
                raise PasswordResetRequired(
                    "This account's password must be reset before it can sign in"
                ) from None
            _unavailable(error)
        if "AuthenticationResult" not in result:
            raise ChallengeRequired(
                f"Signing in needs a step this API does not offer ({result.get('ChallengeName')});"
                " ask an administrator"
            )
        return _tokens(result["AuthenticationResult"])

    def refresh(self, refresh_token: str) -> Tokens:
        # Not InitiateAuth: its SECRET_HASH is over the user's name, which an opaque refresh
        # token does not tell us; GetTokensFromRefreshToken takes the secret itself.
        try:
            result = _call(
                self._cognito.get_tokens_from_refresh_token,
                ClientId=self._client_id,
                ClientSecret=self._client_secret(),
                RefreshToken=refresh_token,
            )
        except ClientError as error:
            if upstream.error_code(error) in ("NotAuthorizedException", "UserNotFoundException"):
                raise Unauthorized("The refresh token is invalid, expired or revoked") from None
            _unavailable(error)
        return _tokens(result["AuthenticationResult"], refresh_token=refresh_token)

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Ends the sign-in session behind a refresh token (and tokens minted from it)."""
        try:
            _call(
                self._cognito.revoke_token,
                Token=refresh_token,
                ClientId=self._client_id,
                ClientSecret=self._client_secret(),
            )
        except ClientError as error:
            # NotAuthorizedException: a token Cognito never issued, or already revoked.
            if upstream.error_code(error) in (
                "NotAuthorizedException",
                "UnsupportedTokenTypeException",
                "InvalidParameterException",
            ):
                raise Unprocessable(
                    "That is not a refresh token of this client",
                    errors={"json": {"refresh_token": ["Not a refresh token of this client"]}},
                ) from None
            _unavailable(error)

    def _client_call(self, operation: Callable[..., Any], email: str, **kwargs: Any) -> Any:
        """A call on one user without an access token, signed with the client's secret."""
        return _call(
            operation,
            ClientId=self._client_id,
            SecretHash=self._secret_hash(email),
            Username=email,
            **kwargs,
        )

    def _admin_call(self, operation: Callable[..., Any], user_id: str) -> None:
        """An admin call on one user, addressed by `sub`; an unknown user is a 404."""
        try:
            _call(
                operation,
                UserPoolId=self._settings.require("cognito_user_pool_id"),
                Username=user_id,
            )
        except ClientError as error:
            if upstream.error_code(error) == "UserNotFoundException":
                raise NotFound(f"User {user_id} was not found") from None
            _unavailable(error)

    def _bad_code(self, error: ClientError) -> NoReturn:
        if upstream.error_code(error) in CODE_ERRORS:
            raise Unprocessable(BAD_CODE, errors={"json": {"code": [BAD_CODE]}}) from None
        if upstream.error_code(error) == "InvalidPasswordException":
            raise Unprocessable(
                "The identity provider rejected the new password",
                errors={"json": {"new_password": ["Does not meet the password policy"]}},
            ) from None
        _unavailable(error)

    def confirm(self, email: str, code: str) -> None:
        try:
            self._client_call(self._cognito.confirm_sign_up, email, ConfirmationCode=code)
        except ClientError as error:
            self._bad_code(error)

    def _status_of(self, email: str) -> str | None:
        """The `UserStatus` of the enabled account `email` names, None if none: what decides
        whether Cognito mails it a code. Cognito's own answer cannot tell: it answers unknown
        emails as if it had mailed them (PreventUserExistenceErrors,
        https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-managing-errors.html).
        """
        try:
            user = _call(
                self._cognito.admin_get_user,
                UserPoolId=self._settings.require("cognito_user_pool_id"),
                Username=email,
            )
        except ClientError as error:
            if upstream.error_code(error) == "UserNotFoundException":
                return None
            _unavailable(error)
        return str(user.get("UserStatus")) if user.get("Enabled", True) else None

    def resend_code(self, email: str) -> None:
        """Mail a new sign-up code; an unknown or confirmed account is silently skipped."""
        mailed = self._status_of(email) == "UNCONFIRMED"
        try:
            self._client_call(self._cognito.resend_confirmation_code, email)
        except ClientError as error:
            if upstream.error_code(error) not in (
                "UserNotFoundException",
                "InvalidParameterException",
            ):
                _unavailable(error)
        if mailed:
            metrics.count(metrics.CODE_EMAILS_SENT)

    def forgot_password(self, email: str) -> None:
        """Mail a reset code; an account that cannot get one is silently skipped.

        Only a confirmed account gets one; Cognito also wants its email verified, which every
        stage that mails codes does at sign-up (REQUIRE_EMAIL_VERIFICATION).
        """
        mailed = self._status_of(email) in MAILED_RESET_STATUSES
        try:
            self._client_call(self._cognito.forgot_password, email)
        except ClientError as error:
            if upstream.error_code(error) not in (
                "UserNotFoundException",
                "InvalidParameterException",
                "NotAuthorizedException",
            ):
                _unavailable(error)
        if mailed:
            metrics.count(metrics.CODE_EMAILS_SENT)

    def reset_password(self, email: str, code: str, new_password: str) -> None:
        try:
            self._client_call(
                self._cognito.confirm_forgot_password,
                email,
                ConfirmationCode=code,
                Password=new_password,
            )
        except ClientError as error:
            self._bad_code(error)

    def change_password(self, access_token: str, current: str, new: str) -> None:
        try:
            _call(
                self._cognito.change_password,
                AccessToken=access_token,
                PreviousPassword=current,
                ProposedPassword=new,
            )
        except ClientError as error:
            # Cognito: NotAuthorizedException; cognito-local: InvalidPasswordException.
            if upstream.error_code(error) in ("NotAuthorizedException", "InvalidPasswordException"):
                raise Unprocessable(
                    "The current password is not correct",
                    errors={"json": {"current_password": ["Incorrect password"]}},
                ) from None
            _unavailable(error)

    def user_id_of(self, email: str) -> str | None:
        """The `sub` of the account that signs in as `email` now, None if none does."""
        try:
            result = _call(
                self._cognito.admin_get_user,
                UserPoolId=self._settings.require("cognito_user_pool_id"),
                Username=email,
            )
        except ClientError as error:
            if upstream.error_code(error) == "UserNotFoundException":
                return None
            _unavailable(error)
        subs = [a["Value"] for a in result.get("UserAttributes", []) if a["Name"] == "sub"]
        return subs[0] if subs else None

    def sign_out_everywhere(self, user_id: str) -> None:
        """Revoke every refresh token of the user, so no session can mint new tokens."""
        self._admin_call(self._cognito.admin_user_global_sign_out, user_id)

    def set_enabled(self, user_id: str, enabled: bool) -> None:
        cognito = self._cognito
        self._admin_call(
            cognito.admin_enable_user if enabled else cognito.admin_disable_user, user_id
        )

    def delete(self, user_id: str) -> None:
        """Delete the Cognito user whose `sub` this is (Cognito's admin calls take a sub as
        Username), so a retry cannot remove a newer account that took over the email."""
        try:
            _call(
                self._cognito.admin_delete_user,
                UserPoolId=self._settings.require("cognito_user_pool_id"),
                Username=user_id,
            )
        except ClientError as error:
            if upstream.error_code(error) != "UserNotFoundException":
                _unavailable(error)
