"""The orders domain: incoming CSV files -> raw_orders -> cleaned_orders -> orders_summary.

  definitions.py  what is built when the location loads, with the settings of that moment
  assets.py       orders_pipeline, the one step that materializes the three assets
  checks.py       the quality checks' rules, evaluated inside that step
  automation.py   daily_pipeline, and the builders of daily_schedule and file_sensor
  logic.py        pure functions: parse, validate, dedupe, summarise an orders CSV
  schema.py       the contract: ORDER_COLUMNS of an incoming CSV
  storage.py      the object-store layout (incoming, staging, quarantine, lake) and downloads
  ledger.py       the SQL store of loaded rows, file versions and the per-date summary
  tables.py       that store's tables (byte-order keys) and the batch's temporary tables
  ingest.py       one run's work without Dagster: read, stage, clean, load in batches
  detection.py    the sensor's pure rules: which objects are pending, batches, retries

This file imports nothing, so orders_and_sales.defs.orders.schema can be imported on its own
(user_code/sample_data.py does) without loading the domain's Dagster definitions.
"""
