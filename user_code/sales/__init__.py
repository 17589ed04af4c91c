"""The sales domain; its Definitions are merged in user_code/definitions.py."""

from dagster import Definitions

defs = Definitions()
