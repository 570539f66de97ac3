"""Bronze is kept as long as the promise to rebuild a day from it (etl/lake_layout.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.lake_layout import BRONZE_RETENTION_DAYS, BRONZE_ROOT
from infra.local.analytics_catalog import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "analytics.yaml"
PITR_DAYS = 35


def _bronze_rule() -> dict[str, Any]:
    resources = load_template(TEMPLATE)["Resources"].values()
    rules = [
        rule
        for resource in resources
        if resource["Type"] == "AWS::S3::Bucket"
        for rule in resource["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
    ]
    (rule,) = [rule for rule in rules if rule["Id"] == "expire-bronze"]
    return rule


def test_bronze_outlives_dynamodbs_export_window_by_the_stated_retention() -> None:
    rule = _bronze_rule()

    assert BRONZE_ROOT.startswith(rule["Prefix"])
    assert rule["ExpirationInDays"] == BRONZE_RETENTION_DAYS > PITR_DAYS


def test_bronze_moves_to_instant_retrieval_once_pitr_lets_go_of_its_day() -> None:
    """GLACIER_IR accepts any transition day (STANDARD_IA needs more than 30), bills 90 days
    at least (kept 400 here) and reads in milliseconds, so a rebuild needs no restore step.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-transition.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html
    """
    assert _bronze_rule()["Transitions"] == [
        {"StorageClass": "GLACIER_IR", "TransitionInDays": PITR_DAYS}
    ]
