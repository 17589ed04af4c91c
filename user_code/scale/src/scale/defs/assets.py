"""A fan-out of independent steps and one fan-in, to spread over the Celery workers.

``scale_part_<i>`` (PARTS of them) each compute a small aggregate and record the host
that ran them, in the data and in the materialization metadata; ``scale_total`` reads
every part back through the IO manager (Parquet in S3/MinIO, so from any host) and
records its own host. ``seconds`` stands in for a step's waiting on I/O.
"""

import socket
import time

import numpy as np
import pandas as pd
from dagster import AssetExecutionContext, AssetIn, Config, asset

from dagster_platform.resources import NETWORK_RETRY_POLICY

GROUP = "scale"
PARTS = 8
PART_ROWS = 200_000


class ScalePartConfig(Config):
    seconds: float = 1.0  # time the step waits, as if for a remote system


def part_name(index: int) -> str:
    return f"scale_part_{index}"


def _part(index: int):
    @asset(name=part_name(index), group_name=GROUP, kinds={"pandas"}, retry_policy=NETWORK_RETRY_POLICY)
    def scale_part(context: AssetExecutionContext, config: ScalePartConfig) -> pd.DataFrame:
        started = time.time()
        time.sleep(config.seconds)
        values = np.random.default_rng(index).random(PART_ROWS)
        host = socket.gethostname()
        context.add_output_metadata({"host": host})
        return pd.DataFrame(
            {
                "part": [index],
                "host": [host],
                "rows": [PART_ROWS],
                "sum": [float(values.sum())],
                "started": [started],
                "finished": [time.time()],
            }
        )

    scale_part.__doc__ = f"Part {index} of the fan-out: an aggregate of {PART_ROWS:,} numbers and the host that ran it."
    return scale_part


SCALE_PARTS = [_part(index) for index in range(PARTS)]


@asset(
    group_name=GROUP,
    kinds={"pandas"},
    retry_policy=NETWORK_RETRY_POLICY,
    ins={part_name(index): AssetIn() for index in range(PARTS)},
)
def scale_total(context: AssetExecutionContext, **parts: pd.DataFrame) -> pd.DataFrame:
    """Every part, one row each, with the host that ran it; the host of this step in metadata."""
    frame = pd.concat([parts[part_name(index)] for index in range(PARTS)], ignore_index=True)
    context.add_output_metadata({"host": socket.gethostname(), "part_hosts": sorted(set(frame["host"]))})
    return frame
