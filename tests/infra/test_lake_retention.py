"""Each layer's retention, as the lifecycle rules set it, is what docs/analysts.md's one table says.

The lake and results buckets are versioned, so an expiration only makes an object noncurrent
(a delete marker becomes current); the data goes when the noncurrent version expires:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html
(read 2026-12-07). Where two rules match one object the shorter expiration is honoured, so the
`erased` tag's rule wins over the bucket-wide 30 noncurrent days:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-conflicts.html (read 2026-12-07).
Lifecycle runs once a day and rounds due dates to the next midnight UTC, hence "≤" in the docs:
https://repost.aws/knowledge-center/s3-lifecycle-rule-delay (read 2026-12-07).
Athena keeps query history (text, no rows) 45 days:
https://docs.aws.amazon.com/athena/latest/ug/querying.html (read 2026-12-07).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.erasure import ERASED_FOLDER_DAYS, ERASED_TAG, ERASURE_DELAY_DAYS
from etl.lake_layout import BRONZE_RETENTION_DAYS
from etl.publish import SUPERSEDED_TAG
from infra.local.analytics_catalog import load_template

ROOT = Path(__file__).resolve().parents[2]
ANALYSTS = ROOT / "docs" / "analysts.md"


def _bucket(logical_id: str) -> dict[str, Any]:
    resources = load_template(ROOT / "infra" / "analytics.yaml")["Resources"]
    properties: dict[str, Any] = resources[logical_id]["Properties"]
    return properties


def _rule(logical_id: str, rule_id: str) -> dict[str, Any]:
    rules = _bucket(logical_id)["LifecycleConfiguration"]["Rules"]
    (rule,) = [rule for rule in rules if rule["Id"] == rule_id]
    return rule


def _retention_rows(column: int = 2) -> dict[str, str]:
    """The retention table of docs/analysts.md: first cell -> the cell of `column`."""
    table = ANALYSTS.read_text().split("| layer | holds | kept |", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = cells[column]
    return rows


def test_folders_holding_erased_rows_expire_in_a_day_and_their_versions_a_day_later() -> None:
    rule = _rule("LakeBucket", "expire-erased-runs")

    assert _bucket("LakeBucket")["VersioningConfiguration"] == {"Status": "Enabled"}
    assert rule["TagFilters"] == [{"Key": ERASED_TAG[0], "Value": ERASED_TAG[1]}]
    assert rule["ExpirationInDays"] == ERASED_FOLDER_DAYS
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": ERASED_FOLDER_DAYS}
    assert ERASED_TAG != SUPERSEDED_TAG


def test_the_analysts_table_states_every_layer_as_the_rules_keep_it() -> None:
    noncurrent = _rule("LakeBucket", "expire-noncurrent-versions")["NoncurrentVersionExpiration"]
    superseded = _rule("LakeBucket", "expire-superseded-runs")["ExpirationInDays"]
    bronze = _rule("LakeBucket", "expire-bronze")
    results = _rule("AthenaResultsBucket", "expire-query-results")
    rows = _retention_rows()

    days = noncurrent["NoncurrentDays"]
    assert rows["bronze, `s3://<lake>/bronze/`"] == (
        f"{BRONZE_RETENTION_DAYS} days (Glacier IR from day "
        f"{bronze['Transitions'][0]['TransitionInDays']}), then {days} days as a noncurrent version"
    )
    assert bronze["ExpirationInDays"] == BRONZE_RETENTION_DAYS
    assert rows["folders the erasure replaced (tagged `erased`)"] == (
        f"{ERASED_FOLDER_DAYS} day, then {ERASED_FOLDER_DAYS} day as a noncurrent version"
    )
    assert rows["folders a rerun replaced, failed attempts (tagged `superseded`)"] == (
        f"{superseded} days, then {days} days as a noncurrent version"
    )
    assert rows["Athena query results, `s3://<results bucket>/`"] == (
        f"{results['ExpirationInDays']} days, then "
        f"{results['NoncurrentVersionExpiration']['NoncurrentDays']} day as a noncurrent version"
    )
    assert rows["Athena query history"] == "45 days (Athena's own)"


def test_the_stated_erasure_delay_is_the_codes() -> None:
    gone = _retention_rows(column=3)[
        "silver and gold, every published partition (`_latest` included)"
    ]

    assert gone.startswith(f"≤ {ERASURE_DELAY_DAYS} days after the day of the deletion ends")
