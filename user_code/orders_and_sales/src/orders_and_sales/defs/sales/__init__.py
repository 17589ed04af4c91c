"""The sales domain: the warehouse's sales -> daily_sales -> daily_sales_summary, and
product_metrics per product.

  definitions.py  what is built when the location loads, with the settings of that moment
  assets.py       daily_sales, daily_sales_summary, product_metrics and their partitions
  checks.py       the blocking checks on daily_sales_summary
  automation.py   the jobs, daily_sales_schedule and product_partition_sensor
  logic.py        pure DataFrame functions: summaries, metrics, check rules
  schema.py       the contract: the warehouse's sales and products tables
  storage.py      every warehouse query of the domain

This file imports nothing, so orders_and_sales.defs.sales.schema can be imported on its own
(user_code/sample_data.py does) without loading the domain's Dagster definitions.
"""
