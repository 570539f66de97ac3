"""The local runner behind `make etl`: the date given is the day that gets published."""

from datetime import date

from infra.local.airflow_local import logical_date_for, parse_args


def test_make_etl_date_selects_the_run_that_owns_that_day() -> None:
    args = parse_args(["etl", "--date", "2026-11-23"])

    assert args.date == date(2026, 11, 23)
    assert logical_date_for(args.date) == "2026-11-24T00:00:00+00:00"
