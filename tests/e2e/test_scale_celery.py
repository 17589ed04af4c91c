"""The `scale` profile for real: a Redis broker and two Celery workers, each its own
container (own hostname, no shared filesystem), beside the session stack.

``celery_fanout`` (8 independent steps + 1 fan-in) runs with its steps spread over both
workers, read from dagster-celery's own engine events and from the hosts the steps wrote
into their data (which the fan-in step read back from MinIO). Then the throughput of the
same burst with 1 and with 2 workers, and a worker killed mid-run: its step is delivered
again to the other one (acks_late + visibility timeout) and the run still succeeds.
The broker's password reaches the runs of `scale` only, not those of orders_and_sales.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from .conftest import ARTIFACTS, RUN_LABEL, TIMINGS, Stack
from tooling.scale import (
    BROKER,
    CODE,
    JOB,
    LOCATION,
    PROFILE,
    WORKER,
    burst,
    fanout_config,
    hosts_by_step,
    remove_workers,
    scale_stack,
    step_events,
    up_workers,
    worker_hosts,
)
from .waits import launch_run, read_parquet, wait_for, wait_run_success

pytestmark = pytest.mark.e2e

# Short, so the killed worker's step comes back within the test; steps here take ~2 s.
VISIBILITY_TIMEOUT_S = 15
PARTS = 8


@pytest.fixture(scope="module")
def scale(stack: Stack):
    scaled = scale_stack(stack, VISIBILITY_TIMEOUT_S)
    try:
        seconds = up_workers(scaled, workers=2, build=True)
        TIMINGS.append(f"scale profile up (images, code server, broker, 2 workers, webserver + daemon): {seconds:.1f}s")
        yield scaled
    finally:
        logs = scaled.compose(*PROFILE, "logs", "--no-color", "--tail", "200", CODE, BROKER, WORKER, check=False)
        (ARTIFACTS / "celery-logs.txt").write_text(logs.stdout + logs.stderr)
        remove_workers(scaled)


def run_fanout(stack: Stack, seconds: float) -> str:
    return launch_run(stack, JOB, fanout_config(seconds), location=LOCATION)


def run_container_env(run_id: str) -> dict[str, str]:
    """The environment of the run's own container (the DockerRunLauncher's labels)."""
    found = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={RUN_LABEL}", "--filter", f"label=dagster/run_id={run_id}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(found) == 1, f"run {run_id}: expected one run container, found {found}"
    info = json.loads(subprocess.run(["docker", "inspect", found[0]], capture_output=True, text=True).stdout)[0]
    return dict(item.split("=", 1) for item in info["Config"]["Env"])


def test_only_the_runs_of_scale_get_the_broker_password(scale: Stack):
    """The daemon holds the broker's variables and forwards them by name to the runs of
    `scale` alone (its code server's container context), not to orders_and_sales' runs; the
    run record keeps the names, never the password."""
    broker = {"CELERY_BROKER_HOST", "CELERY_BROKER_PASSWORD"}
    password = scale.env["CELERY_BROKER_PASSWORD"]
    daemon = json.loads(
        subprocess.run(["docker", "inspect", scale.container_id("daemon")], capture_output=True, text=True).stdout
    )[0]
    assert f"CELERY_BROKER_PASSWORD={password}" in daemon["Config"]["Env"], "the daemon has no broker password"
    orders = launch_run(scale, "daily_sales_job", tags={"dagster/partition": "2023-06-15"}, assets=["daily_sales"])
    celery = run_fanout(scale, seconds=0)
    for run_id in (orders, celery):
        wait_run_success(scale, run_id, timeout=180)
    orders_env, celery_env = run_container_env(orders), run_container_env(celery)
    assert not broker & set(orders_env), f"an orders_and_sales run got {sorted(broker & set(orders_env))}"
    assert "DAGSTER_PG_PASSWORD" in orders_env, sorted(orders_env)  # the forwarded ones still arrive
    assert celery_env["CELERY_BROKER_PASSWORD"] == password
    assert celery_env["CELERY_BROKER_HOST"] == scale.env.get("CELERY_BROKER_HOST", "celery-broker")
    sql = f"SELECT run_body FROM runs WHERE run_id = '{celery}'"
    superuser, database = scale.env.get("POSTGRES_USER") or "postgres", scale.env["DAGSTER_PG_DB"]
    stored = scale.compose("exec", "-T", "postgres", "psql", "-U", superuser, "-d", database, "-tAc", sql).stdout
    assert "CELERY_BROKER_PASSWORD" in stored and password not in stored, "the run record holds the password"


def test_broker_and_workers_are_hardened_and_the_broker_is_not_published(scale: Stack):
    containers = scale.compose(*PROFILE, "ps", "-q", BROKER, WORKER).stdout.split()
    assert len(containers) == 3, containers
    for container in containers:
        info = json.loads(subprocess.run(["docker", "inspect", container], capture_output=True, text=True).stdout)[0]
        host, service = info["HostConfig"], info["Config"]["Labels"]["com.docker.compose.service"]
        assert host["CapDrop"] == ["ALL"] and "no-new-privileges:true" in host["SecurityOpt"], service
        assert host["ReadonlyRootfs"] is True and host["RestartPolicy"]["Name"] == "unless-stopped", service
        assert info["Config"]["Healthcheck"]["Test"], service
        assert info["Config"]["User"] not in ("", "root", "0"), (service, info["Config"]["User"])
        assert not any(host.get("PortBindings") or {}), (service, host.get("PortBindings"))
        assert not info["Mounts"] or service == BROKER, (service, info["Mounts"])  # workers: no volume
    # The broker refuses a client without the password.
    anonymous = scale.compose(*PROFILE, "exec", "-T", BROKER, "redis-cli", "ping", check=False)
    assert "NOAUTH" in anonymous.stdout + anonymous.stderr, anonymous.stdout + anonymous.stderr


def test_steps_are_spread_over_both_workers(scale: Stack):
    hosts = worker_hosts(scale)
    assert len(hosts) == 2, hosts
    run_id = run_fanout(scale, seconds=2)
    wait_run_success(scale, run_id, timeout=180)
    ran = hosts_by_step(step_events(scale, run_id))
    steps = {f"scale_part_{i}" for i in range(PARTS)} | {"scale_total"}
    assert set(ran) == steps, ran
    assert {host for chain in ran.values() for host in chain} <= set(hosts), (ran, hosts)
    used = {chain[-1] for step, chain in ran.items() if step != "scale_total"}
    assert used == set(hosts), f"parts ran only on {used}, workers {sorted(hosts)}: {ran}"
    # The data agrees: each part wrote its host; the fan-in read them all back from MinIO.
    total = read_parquet(scale, "lake/scale_total.parquet")
    assert total["part"].tolist() == list(range(PARTS))
    assert {f"scale_part_{p}": [h] for p, h in zip(total["part"], total["host"])} == {
        step: chain[-1:] for step, chain in ran.items() if step != "scale_total"
    }
    TIMINGS.append(
        "celery_fanout steps by worker: "
        + ", ".join(f"{host}: {sum(1 for c in ran.values() if c[-1] == host)}" for host in sorted(hosts))
    )


def test_burst_throughput_with_one_and_two_workers(scale: Stack):
    result = burst(
        scale,
        launch=lambda job, config: launch_run(scale, job, config, location=LOCATION),
        wait=lambda run_id: wait_run_success(scale, run_id, timeout=240),
    )
    (ARTIFACTS / "celery-throughput.json").write_text(json.dumps(result, indent=2))
    TIMINGS.append(
        f"celery_fanout burst ({result['steps']} steps): steps/min with {result['workers']} "
        f"workers: {result['steps_per_min']}"
    )
    assert result["workers_used"] == result["workers"], result
    assert result["steps_per_min"][1] > result["steps_per_min"][0], result
    up_workers(scale, 2)


def test_killing_a_worker_mid_run_still_succeeds(scale: Stack):
    hosts = worker_hosts(scale)
    assert len(hosts) == 2, hosts
    run_id = run_fanout(scale, seconds=4)

    def busy_worker():
        """A part step that a worker has started and not finished yet, and that worker."""
        events = step_events(scale, run_id)
        done = {e["stepKey"] for e in events if e["__typename"] == "ExecutionStepSuccessEvent"}
        running = [
            (step, chain[-1])
            for step, chain in hosts_by_step(events).items()
            if step.startswith("scale_part_") and step not in done
        ]
        return running[0] if running else None

    step, victim = wait_for("a part step to start on a worker", busy_worker, timeout=120, interval=0.5)
    subprocess.run(["docker", "kill", hosts[victim]], check=True, capture_output=True)
    killed = time.monotonic()
    wait_run_success(scale, run_id, timeout=VISIBILITY_TIMEOUT_S + 180)
    TIMINGS.append(f"celery worker killed mid-step -> run SUCCESS: {time.monotonic() - killed:.1f}s")

    ran = hosts_by_step(step_events(scale, run_id))
    survivor = next(host for host in hosts if host != victim)
    assert ran[step][0] == victim and ran[step][-1] == survivor, (step, ran[step])
    total = read_parquet(scale, "lake/scale_total.parquet")
    assert total["part"].tolist() == list(range(PARTS))
    assert total.loc[total["part"] == int(step.rsplit("_", 1)[1]), "host"].tolist() == [survivor], total
