"""Before the first step: credentials and a region, found the usual AWS way, or one clear line.

botocore resolves them as the AWS CLI will (environment, AWS_PROFILE, config files, SSO,
instance roles) without a network call when they are simply missing.
"""

from __future__ import annotations

import os

import botocore.exceptions
import botocore.session


class PreflightError(RuntimeError):
    pass


def region() -> str | None:
    """AWS_REGION, AWS_DEFAULT_REGION, then the profile's (the AWS CLI v1 ignores AWS_REGION)."""
    found = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if found:
        return found
    try:
        configured = botocore.session.Session().get_config_variable("region")
    except botocore.exceptions.ProfileNotFound as error:
        raise PreflightError(str(error)) from None
    return str(configured) if configured else None


def check() -> str:
    """The region to use; raises PreflightError naming what is missing."""
    try:
        credentials = botocore.session.Session().get_credentials()
    except botocore.exceptions.BotoCoreError as error:
        raise PreflightError(f"AWS credentials: {error}") from None
    if credentials is None:
        raise PreflightError(
            "no AWS credentials: set AWS_PROFILE (after `aws configure` or `aws sso login`) "
            "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    found = region()
    if not found:
        raise PreflightError("no AWS region: set AWS_REGION (or a region in the AWS_PROFILE)")
    # Every command the deploy runs (AWS CLI v1, Zappa's boto3) reads this one, not AWS_REGION.
    os.environ["AWS_DEFAULT_REGION"] = found
    return found
