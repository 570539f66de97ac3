import pytest

from etl.engine_choice import ATHENA_THRESHOLD_ROWS, choose_engine


@pytest.mark.parametrize("item_count", [0, ATHENA_THRESHOLD_ROWS, 10 * ATHENA_THRESHOLD_ROWS])
@pytest.mark.parametrize("setting", ["duckdb", "athena"])
def test_a_forced_engine_is_used_whatever_the_size(setting: str, item_count: int) -> None:
    assert choose_engine(setting, item_count) == setting


def test_auto_keeps_an_export_up_to_the_threshold_on_the_worker() -> None:
    assert choose_engine("auto", 0) == "duckdb"
    assert choose_engine("auto", ATHENA_THRESHOLD_ROWS) == "duckdb"


def test_auto_sends_a_bigger_export_to_athena() -> None:
    assert choose_engine("auto", ATHENA_THRESHOLD_ROWS + 1) == "athena"


def test_an_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="'spark' is not one of duckdb, athena, auto"):
        choose_engine("spark", 1)
