"""Pure DataFrame logic of the customers medallion, testable without Dagster."""

from __future__ import annotations

import pandas as pd

INGESTION_COLUMN = "ingestion_run_id"
GOLD_COLUMNS = ["segment", "customer_count", "mean_lifetime_value"]


def to_bronze(raw: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """The raw rows unchanged, plus the id of the run that ingested them."""
    return raw.assign(**{INGESTION_COLUMN: run_id})


def to_silver(bronze: pd.DataFrame) -> pd.DataFrame:
    """Rows that have a customer_id and a usable email; emails lower-cased and stripped."""
    email = bronze["email"].astype("string").str.strip().str.lower()
    keep = bronze["customer_id"].notna() & email.notna() & (email != "")
    silver = bronze.loc[keep].assign(email=email[keep].astype(str))
    silver["customer_id"] = silver["customer_id"].astype("int64")
    return silver.reset_index(drop=True)


def to_gold(silver: pd.DataFrame) -> pd.DataFrame:
    """Per segment: how many customers and their mean lifetime value."""
    if silver.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(GOLD_COLUMNS, ["str", "int64", "float64"])})
    values = silver.assign(lifetime_value=pd.to_numeric(silver["lifetime_value"], errors="coerce").astype(float))
    gold = values.groupby("segment", sort=True).agg(
        customer_count=("customer_id", "nunique"),
        mean_lifetime_value=("lifetime_value", "mean"),
    )
    return gold.reset_index()[GOLD_COLUMNS]
