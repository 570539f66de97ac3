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

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import jwt
from botocore.exceptions import BotoCoreError, ClientError

from api import deadline, metrics, upstream
from api.auth import cognito_errors

# Re-exported in PEP 484's explicit form: tests import the policy by this module's name.
from api.auth.password_policy import password_policy as password_policy  # noqa: PLC0414
from api.auth.password_policy import password_problems as password_problems  # noqa: PLC0414
from api.auth.secret_hash import secret_hash
from api.caller import caller_ip
from api.compensation import undone_on_failure
from api.config import Settings
from api.problems import ApiProblem, ConfigurationError, Forbidden

IDENTITY_PROVIDER = "identity provider"
# The accounts ForgotPassword mails a code to.
MAILED_RESET_STATUSES = ("CONFIRMED", "RESET_REQUIRED")


class ChallengeRequired(Forbidden):
    """Cognito wants more than a password (a new password, MFA): this API offers no such step."""

    type = "urn:tasklake:problem:sign-in-challenge"


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


@functools.cache
def _client_secret(region: str, pool_id: str, client_id: str) -> str:
    """One DescribeUserPoolClient per container, on the first call that needs the secret."""
    try:
        described = _call(
            _client(region).describe_user_pool_client, UserPoolId=pool_id, ClientId=client_id
        )
    except ApiProblem as problem:
        # Not found, access denied, malformed: the settings name no client we may describe.
        if problem.status != 500 or not isinstance(problem.__cause__, ClientError):
            raise
        raise ConfigurationError(
            "COGNITO_CLIENT_ID names no app client of COGNITO_USER_POOL_ID we may describe"
        ) from problem.__cause__
    secret = described["UserPoolClient"].get("ClientSecret")
    if not secret:
        raise ConfigurationError("The app client COGNITO_CLIENT_ID names has no secret")
    return str(secret)


def _call(operation: Callable[..., Any], **call: Any) -> Any:
    """One Cognito call: its result, or None for a refusal the table calls expected
    (api/auth/cognito_errors.py, by the boto3 method's name); any other refusal raises."""
    try:
        return operation(**call)
    except BotoCoreError as error:
        raise upstream.problem_for(error, IDENTITY_PROVIDER) from error
    except ClientError as error:
        if cognito_errors.refuses_our_secret(error):
            raise ConfigurationError("Cognito refused the app client's secret") from error
        if not cognito_errors.answers(operation.__name__, error):
            raise upstream.problem_for(error, IDENTITY_PROVIDER) from error
        problem = cognito_errors.problem_for(operation.__name__, error, call)
        if problem is None:
            return None
        raise problem from None


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

    @property
    def _pool_id(self) -> str:
        return self._settings.require("cognito_user_pool_id")

    def _client_secret(self) -> str:
        return _client_secret(self._settings.region, self._pool_id, self._client_id)

    def _secret_hash(self, username: str) -> str:
        return secret_hash(self._client_secret(), username, self._client_id)

    def register(self, email: str, password: str, name: str) -> str:
        """Create a user; returns its `sub`, the user id everywhere else.

        Where the stage requires verification Cognito mails a code (`confirm`); elsewhere
        the account is confirmed at once.
        """
        pool_id = self._pool_id
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
            _call(self._cognito.admin_confirm_sign_up, UserPoolId=pool_id, Username=user_id)
        return user_id

    def authenticate(self, email: str, password: str) -> Tokens:
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
        if "AuthenticationResult" not in result:
            raise ChallengeRequired(
                f"Signing in needs a step this API does not offer ({result.get('ChallengeName')});"
                " ask an administrator"
            )
        return _tokens(result["AuthenticationResult"])

    def refresh(self, refresh_token: str) -> Tokens:
        # Not InitiateAuth: its SECRET_HASH is over the user's name, which an opaque refresh
        # token does not tell us; GetTokensFromRefreshToken takes the secret itself.
        result = _call(
            self._cognito.get_tokens_from_refresh_token,
            ClientId=self._client_id,
            ClientSecret=self._client_secret(),
            RefreshToken=refresh_token,
        )
        return _tokens(result["AuthenticationResult"], refresh_token=refresh_token)

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Ends the sign-in session behind a refresh token (and tokens minted from it)."""
        _call(
            self._cognito.revoke_token,
            Token=refresh_token,
            ClientId=self._client_id,
            ClientSecret=self._client_secret(),
        )

    def _client_call(self, operation: Callable[..., Any], email: str, **call: Any) -> Any:
        """A call on one user without an access token, signed with the client's secret."""
        return _call(
            operation,
            ClientId=self._client_id,
            SecretHash=self._secret_hash(email),
            Username=email,
            **call,
        )

    def _admin_call(self, operation: Callable[..., Any], username: str) -> Any:
        """An admin call on one user, by `sub` or email."""
        return _call(operation, UserPoolId=self._pool_id, Username=username)

    def confirm(self, email: str, code: str) -> None:
        self._client_call(self._cognito.confirm_sign_up, email, ConfirmationCode=code)

    def _status_of(self, email: str) -> str | None:
        """The `UserStatus` of the enabled account `email` names, None if none: what decides
        whether Cognito mails it a code. Cognito's own answer cannot tell: it answers unknown
        emails as if it had mailed them (PreventUserExistenceErrors,
        https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-managing-errors.html).
        """
        user = self._admin_call(self._cognito.admin_get_user, email)
        if user is None or not user.get("Enabled", True):
            return None
        return str(user.get("UserStatus"))

    def resend_code(self, email: str) -> None:
        """Mail a new sign-up code; an unknown or confirmed account is silently skipped."""
        mailed = self._status_of(email) == "UNCONFIRMED"
        self._client_call(self._cognito.resend_confirmation_code, email)
        if mailed:
            metrics.count(metrics.CODE_EMAILS_SENT)

    def forgot_password(self, email: str) -> None:
        """Mail a reset code; an account that cannot get one is silently skipped.

        Only a confirmed account gets one; Cognito also wants its email verified, which every
        stage that mails codes does at sign-up (REQUIRE_EMAIL_VERIFICATION).
        """
        mailed = self._status_of(email) in MAILED_RESET_STATUSES
        self._client_call(self._cognito.forgot_password, email)
        if mailed:
            metrics.count(metrics.CODE_EMAILS_SENT)

    def reset_password(self, email: str, code: str, new_password: str) -> None:
        self._client_call(
            self._cognito.confirm_forgot_password,
            email,
            ConfirmationCode=code,
            Password=new_password,
        )

    def change_password(self, access_token: str, current: str, new: str) -> None:
        _call(
            self._cognito.change_password,
            AccessToken=access_token,
            PreviousPassword=current,
            ProposedPassword=new,
        )

    def user_id_of(self, email: str) -> str | None:
        """The `sub` of the account that signs in as `email` now, None if none does."""
        user: Mapping[str, Any] = self._admin_call(self._cognito.admin_get_user, email) or {}
        subs = [a["Value"] for a in user.get("UserAttributes", []) if a["Name"] == "sub"]
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
        self._admin_call(self._cognito.admin_delete_user, user_id)
