"""The customers domain's Definitions; merged in user_code/definitions.py."""

from dagster import Definitions

from .assets import customers_medallion, raw_customers

defs = Definitions(assets=[raw_customers, customers_medallion])
