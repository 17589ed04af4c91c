"""The medallion logic on small, dirty frames."""

import pandas as pd
import pytest

from orders_and_sales.defs.customers.logic import INGESTION_COLUMN, to_bronze, to_gold, to_silver


@pytest.fixture
def dirty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, None, 6],
            "email": ["  Ann@Example.COM ", None, "", "bob@example.com", "ghost@example.com", "   "],
            "segment": ["consumer", "consumer", "enterprise", "enterprise", "consumer", "consumer"],
            "lifetime_value": [100.0, 50.0, 10.0, 300.0, 999.0, 1.0],
        }
    )


def test_bronze_keeps_every_row_and_marks_the_run(dirty):
    bronze = to_bronze(dirty, "run-123")
    assert len(bronze) == len(dirty)
    assert set(bronze[INGESTION_COLUMN]) == {"run-123"}
    assert INGESTION_COLUMN not in dirty.columns  # the input is not mutated


def test_silver_drops_rows_without_id_or_email_and_normalises_email(dirty):
    silver = to_silver(to_bronze(dirty, "r"))
    assert silver["customer_id"].tolist() == [1, 4]
    assert silver["email"].tolist() == ["ann@example.com", "bob@example.com"]
    assert silver["customer_id"].dtype == "int64"


def test_gold_counts_and_averages_per_segment(dirty):
    gold = to_gold(to_silver(to_bronze(dirty, "r")))
    assert gold.to_dict("records") == [
        {"segment": "consumer", "customer_count": 1, "mean_lifetime_value": 100.0},
        {"segment": "enterprise", "customer_count": 1, "mean_lifetime_value": 300.0},
    ]


def test_gold_of_nothing_is_an_empty_frame_with_its_columns():
    empty = to_silver(pd.DataFrame({"customer_id": [1], "email": [None], "segment": ["x"], "lifetime_value": [1.0]}))
    gold = to_gold(empty)
    assert gold.empty and list(gold.columns) == ["segment", "customer_count", "mean_lifetime_value"]
