"""The alerts' Definitions; merged in user_code/definitions.py."""

from dagster import Definitions

from .sensors import ALERT_SENSORS

defs = Definitions(sensors=ALERT_SENSORS)
