"""The customers domain: the warehouse's customers -> raw_customers -> customers_bronze,
customers_silver, customers_gold (a medallion in one multi-asset).

  definitions.py  the domain's Definitions (merged in user_code/definitions.py)
  assets.py       raw_customers and customers_medallion
  logic.py        pure DataFrame functions: bronze, silver, gold
  schema.py       the contract: the warehouse's customers table

It has no checks, jobs, schedules or sensors, and no storage module: its one query is
raw_customers'.

This file imports nothing, so orders_and_sales.defs.customers.schema can be imported on its own
(user_code/sample_data.py does) without loading the domain's Dagster definitions.
"""
