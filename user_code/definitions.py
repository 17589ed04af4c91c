"""The one Definitions object the code server loads: every domain plus the resources
of the current deployment (see user_code/environment.py)."""

from dagster import Definitions

from . import customers, orders, sales
from .environment import resources_for

defs = Definitions.merge(
    orders.defs,
    customers.defs,
    sales.defs,
    Definitions(resources=resources_for()),
)
