"""The key that signs list cursors: Secrets Manager in AWS, an environment variable locally.

With CURSOR_SECRET_ARN set, the secret is read on the first request that needs
it and kept for the life of the container: one GetSecretValue per container,
none at import, none per request. Without it, CURSOR_SECRET (local runs, tests).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from api import deadline, upstream
from api.config import Settings
from api.problems import ConfigurationError


def secrets_manager(region: str) -> Any:
    """A client whose endpoint is AWS_ENDPOINT_URL_SECRETS_MANAGER when set (tests), else AWS's."""
    config = deadline.SECRETS_MANAGER.botocore_config()
    client = boto3.client("secretsmanager", region_name=region, config=config)
    return deadline.guard(client, deadline.SECRETS_MANAGER)


class CursorSecret:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._value: str | None = None
        self._lock = threading.Lock()

    def value(self) -> str:
        with self._lock:
            if self._value is None:
                self._value = self._read()
            return self._value

    def _read(self) -> str:
        arn = self._settings.cursor_secret_arn
        if not arn:
            if self._settings.cursor_secret:
                return self._settings.cursor_secret
            raise ConfigurationError("Neither CURSOR_SECRET_ARN nor CURSOR_SECRET is set")
        try:
            secret = secrets_manager(self._settings.region).get_secret_value(SecretId=arn)
        except ClientError as error:
            problem = upstream.problem_for(error, "secret store")
            if problem.status == 500:  # not found, access denied, KMS key disabled...
                problem = ConfigurationError("CURSOR_SECRET_ARN names no secret we can read")
            raise problem from error
        except BotoCoreError as error:
            raise upstream.problem_for(error, "secret store") from error
        if not secret.get("SecretString"):
            raise ConfigurationError("The secret CURSOR_SECRET_ARN names holds no string")
        return str(secret["SecretString"])
