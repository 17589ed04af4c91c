"""results.json and RESULTS.md: every figure beside its baseline, target and ratio; and
README.md's table of headline figures (between its ``figures`` markers), from the same numbers."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"
NOTES_MD = HERE / "NOTES.md"
README_MD = HERE.parent / "README.md"
FIGURES_BEGIN = "<!-- figures:begin: written by `make bench` (benchmarks/report.py) from benchmarks/results.json -->"
FIGURES_END = "<!-- figures:end -->"


def machine() -> dict:
    memory_kib = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kib / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in ("dagster", "pandas", "pyarrow", "sqlalchemy")},
    }


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "n/a"


def phases_row(first: str, figures: dict, keys: tuple[str, str, str], note: str) -> str:
    """A table row with the p50 of a run's three phases: until created, until started, until SUCCESS."""
    values = " / ".join(f"{figures[key]:.1f}" for key in keys)
    return f"| … p50 phases: {first} / → started / → SUCCESS (s) | {values} | {note} | | |"


def keep_unmeasured(key: str, figure):
    """A figure measured alone (``--only``): its parts that this run did not measure (left at
    their 0 placeholder, e.g. the cold build of a warm ``--only footprint``) keep their values
    from results.json instead of being written as 0."""
    previous = json.loads(RESULTS_JSON.read_text()).get(key) if RESULTS_JSON.exists() else None
    if not isinstance(figure, dict) or not isinstance(previous, dict):
        return figure
    return {**previous, **{part: value for part, value in figure.items() if value != 0}}


def write(results: dict) -> None:
    """Merge ``results`` into results.json (figures not re-run keep their last values)."""
    previous = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    merged = {**previous, **results, "machine": machine()}
    RESULTS_JSON.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    RESULTS_MD.write_text(render(merged))
    write_readme_figures(merged)


def readme_figures(r: dict) -> str:
    """README's block: the headline figures of ``r`` (results.json), each with its target."""
    rows: list[tuple[str, str, str, bool]] = []  # figure, measured, target, met
    s = r.get("sensor_latency_s")
    if s and s.get("n"):
        rows.append(
            (
                "CSV upload → `file_sensor` run SUCCESS",
                f"p50 {s['p50']:.1f} s, p95 {s['p95']:.1f} s (n = {s['n']})",
                "p50 ≤ 10 s",
                s["p50"] <= 10,
            )
        )
    o = r.get("run_overhead_s")
    if o and o.get("n"):
        rows.append(
            (
                "Per-run overhead, own container, launch → SUCCESS",
                f"p50 {o['docker_p50']:.1f} s",
                "≤ 6 s",
                o["docker_p50"] <= 6,
            )
        )
    u = r.get("burst")
    if u and u.get("drain_s"):
        rows.append(
            (
                f"Burst of {u['files']} small orders files → all in `orders_summary`",
                f"{u['drain_s']:.0f} s, {u['runs']} runs, totals {'exact' if u['exact'] else 'WRONG'}",
                "≤ 180 s",
                u["drain_s"] <= 180 and u["exact"],
            )
        )
    t = r.get("orders_throughput")
    if t and t.get("project_vs_floor"):
        rows.append(
            (
                f"Orders compute path (parse, clean, dedupe, summary), {t['rows']:,} rows",
                f"{t['project_vs_floor']:.2f}× the parse floor's time",
                "≤ 3×",
                t["project_vs_floor"] <= 3,
            )
        )
    if t and t.get("pipeline_vs_seed_io"):
        rows.append(
            (
                f"Orders pipeline step (staging, Postgres load, summary), {t['rows']:,} rows",
                f"{t['pipeline_vs_seed_io']:.2f}× the seed code with the same I/O",
                "≥ 3×",
                t["pipeline_vs_seed_io"] >= 3,
            )
        )
    pm = r.get("peak_memory")
    if pm and pm.get("peak_mib"):
        rows.append(
            (
                f"Peak memory of a run on a {pm['csv_mb']} MB orders CSV",
                f"{pm['peak_mib']:,} MiB ({pm['ratio']:.2f}× the file)",
                "≤ 3× the file",
                pm["ratio"] <= 3,
            )
        )
    g = r.get("ingest_growth")
    if g and g.get("empty_s"):
        rows.append(
            (
                f"A 1,000-row file after {g['history_files']:,} files ({g['history_rows']:,} rows) vs an empty store",
                f"{g['after_history_s']:.2f} s vs {g['empty_s']:.2f} s ({g['ratio']:.2f}×)",
                "≤ 1.3×",
                g["ratio"] <= 1.3,
            )
        )
    k = r.get("sensor_tick_s")
    if k and k.get("p50"):
        rows.append(
            (
                f"`file_sensor` tick, {k['objects']:,} objects in the prefix",
                f"p50 {k['p50']:.2f} s",
                "≤ 3 s",
                k["p50"] <= 3,
            )
        )
    b = r.get("backfill")
    if b and b.get("single_run_s"):
        speedup = b["per_partition_extrapolated_s"] / b["single_run_s"]
        rows.append(
            (
                f"Backfill of {b['partitions']} partitions, one run vs one run per partition",
                f"{b['single_run_s']:.0f} s vs {b['per_partition_extrapolated_s']:,.0f} s ({speedup:.0f}×)",
                "≥ 10×",
                speedup >= 10,
            )
        )
    f = r.get("footprint")
    if f and f.get("idle_total_mib"):
        rows += [
            ("Idle memory, whole stack", f"{f['idle_total_mib']:.0f} MiB", "≤ 800 MiB", f["idle_total_mib"] <= 800),
            ("User-code image", f"{f['user_code_image_mb']:.0f} MB", "≤ 600 MB", f["user_code_image_mb"] <= 600),
            ("Warm `up` to a healthy UI", f"{f['warm_up_s']:.1f} s", "≤ 20 s", f["warm_up_s"] <= 20),
        ]
    d = r.get("redeploy")
    if d and d.get("command_to_loaded_s"):
        rows.append(
            (
                f"`make deploy LOCATION={d['location']}` → new code loaded in the UI",
                f"{d['command_to_loaded_s']:.0f} s, {d['failed_runs_during']} failed runs",
                "≤ 60 s, 0 failed runs",
                d["command_to_loaded_s"] <= 60 and d["failed_runs_during"] == 0,
            )
        )
    n = r.get("scaffold_to_success")
    if n and n.get("first_success_s"):
        rows.append(
            (
                "`make new-location` → deployed → first SUCCESS of its example asset",
                f"{n['first_success_s']:.0f} s",
                "≤ 300 s",
                n["first_success_s"] <= 300,
            )
        )
    c = r.get("celery")
    if c and c.get("steps_per_min"):
        (one, two), (w1, w2) = c["steps_per_min"], c["workers"]
        rows.append(
            (
                f"Celery: {c['steps']} steps of `celery_fanout`, {c['step_wait_s']:g} s of waiting each",
                f"{one:.1f} steps/min on {w1} worker, {two:.1f} on {w2}",
                "more with more workers",
                two > one,
            )
        )
    cpus = r.get("machine", {}).get("cpus", "?")
    lines = [
        FIGURES_BEGIN,
        f"Measured by `make bench` on a {cpus}-core machine; every figure with its baseline: "
        "[benchmarks/RESULTS.md](benchmarks/RESULTS.md).",
        "",
        "| Figure | Measured | Target | Met |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {figure} | {measured} | {target} | {'yes' if met else '**no**'} |" for figure, measured, target, met in rows
    ]
    return "\n".join([*lines, FIGURES_END])


def write_readme_figures(r: dict) -> None:
    """Replace README's block between the figures markers (left alone if they are missing)."""
    text = README_MD.read_text() if README_MD.exists() else ""
    start, end = text.find(FIGURES_BEGIN), text.find(FIGURES_END)
    if start < 0 or end < start:
        print(f"{README_MD}: no {FIGURES_BEGIN} … {FIGURES_END} block, its figures are not updated")
        return
    README_MD.write_text(text[:start] + readme_figures(r) + text[end + len(FIGURES_END) :])


def render(r: dict) -> str:
    m = r["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` on {m['date']}: {m['cpus']} CPUs, {m['memory_gib']} GiB, {m['platform']}, "
        f"Python {m['python']}, " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        "Every figure is the median of its runs. Raw numbers: [results.json](results.json).",
        "",
        "| Figure | Project | Baseline | Ratio | Target |",
        "|---|---|---|---|---|",
    ]
    t = r.get("orders_throughput")
    if t:
        lines.append(
            f"| Orders throughput, {t['rows']:,} rows (rows/s) | {t['project_rows_per_s']:,.0f} | "
            f"seed pandas {t['seed_rows_per_s']:,.0f} | {ratio(t['project_rows_per_s'], t['seed_rows_per_s'])} "
            "| ≥ 3× seed |"
        )
        if t.get("project_vs_floor"):
            lines.append(
                f"| Orders compute path vs the parse floor (`pyarrow.csv.read_csv`, multithreaded) | "
                f"{t['project_rows_per_s']:,.0f} | floor {t['floor_rows_per_s']:,.0f} | "
                f"{t['project_vs_floor']:.2f}× the floor's time | within 3× of the floor |"
            )
        if t.get("pipeline_vs_seed_io"):
            lines.append(
                f"| Orders pipeline (the orders step: staging, Postgres load, summary), {t['rows']:,} rows "
                f"| {t['pipeline_rows_per_s']:,.0f} | seed with the same I/O {t['seed_io_rows_per_s']:,.0f} "
                f"| {t['pipeline_vs_seed_io']:.2f}× ({t['pipeline_vs_floor']:.1f}× the floor's time) | ≥ 3× seed with the same I/O |"
            )
        for size in t.get("by_size", []):
            lines.append(
                f"| … at {size['rows']:,} rows | {size['project_rows_per_s']:,.0f} | seed {size['seed_rows_per_s']:,.0f}, "
                f"floor {size['floor_rows_per_s']:,.0f} | {ratio(size['project_rows_per_s'], size['seed_rows_per_s'])} | |"
            )
            if size.get("seed_io_rows_per_s"):
                lines.append(
                    f"| … pipeline at {size['rows']:,} rows | {size['pipeline_rows_per_s']:,.0f} | "
                    f"seed with the same I/O {size['seed_io_rows_per_s']:,.0f} | "
                    f"{ratio(size['pipeline_rows_per_s'], size['seed_io_rows_per_s'])} | |"
                )
        for size in t.get("with_stack_running", []):
            lines.append(
                f"| … at {size['rows']:,} rows, compose stack idling beside it | {size['project_rows_per_s']:,.0f} | "
                f"seed {size['seed_rows_per_s']:,.0f}, floor {size['floor_rows_per_s']:,.0f} | "
                f"{ratio(size['project_rows_per_s'], size['seed_rows_per_s'])} | |"
            )
        minio = t.get("minio")
        if minio:
            lines.append(
                f"| … CSV from MinIO, Parquet to MinIO, {minio['rows']:,} rows | {minio['project_rows_per_s']:,.0f} | "
                f"seed {minio['seed_rows_per_s']:,.0f} | {ratio(minio['project_rows_per_s'], minio['seed_rows_per_s'])} | |"
            )
    g = r.get("ingest_growth")
    if g and g.get("empty_s"):
        lines.append(
            f"| 1,000-row orders file after {g['history_files']:,} files ({g['history_rows']:,} rows) (s) | "
            f"{g['after_history_s']:.2f} | empty history {g['empty_s']:.2f} | {g['ratio']:.2f}× | ≤ 1.3× |"
        )
    k = r.get("sensor_tick_s")
    if k and k.get("p50"):
        lines.append(
            f"| file_sensor tick, {k['objects']:,} objects in the prefix (s) | p50 {k['p50']:.2f}, "
            f"max {k['max']:.2f} | | | ≤ 3 s |"
        )
    pm = r.get("peak_memory")
    if pm and pm.get("peak_mib"):
        lines.append(
            f"| Peak memory of an orders run on a {pm['csv_mb']} MB CSV (MiB) | {pm['peak_mib']:,} | "
            f"file {pm['csv_mb']} MB | {pm['ratio']:.2f}× the file | ≤ 3× |"
        )
    u = r.get("burst")
    if u and u.get("drain_s"):
        lines.append(
            f"| Burst of {u['files']} small files, upload → all in orders_summary (s) | {u['drain_s']:.0f} "
            f"| {u['runs']} runs | totals {'exact' if u['exact'] else 'WRONG'} | ≤ 180 s |"
        )
    s = r.get("sensor_latency_s")
    if s and s.get("n"):
        lines.append(
            f"| Sensor latency upload → SUCCESS (s) | p50 {s['p50']:.1f}, p95 {s['p95']:.1f} (n={s['n']}) | | | p50 ≤ 10 s |"
        )
        if "p50_upload_to_run_created" in s:
            lines.append(
                phases_row(
                    "upload → run created",
                    s,
                    ("p50_upload_to_run_created", "p50_run_created_to_started", "p50_run_started_to_end"),
                    f"sensor interval {s.get('sensor_interval_s', '?')} s",
                )
            )
    o = r.get("run_overhead_s")
    if o and o.get("n"):
        lines.append(
            f"| Per-run overhead, launch → SUCCESS (s) | Docker p50 {o['docker_p50']:.1f} | in-process p50 "
            f"{o['in_process_p50']:.2f} | {ratio(o['docker_p50'], o['in_process_p50'])} | ≤ 6 s |"
        )
        if "p50_launch_to_created" in o:
            lines.append(
                phases_row(
                    "launch → created",
                    o,
                    ("p50_launch_to_created", "p50_created_to_started", "p50_started_to_end"),
                    f"`{o.get('asset', '')}`",
                )
            )
    c = r.get("celery")
    if c and c.get("steps_per_min"):
        (one, two), (w1, w2) = c["steps_per_min"], c["workers"]
        lines.append(
            f"| Celery burst: {c['steps']} steps of `celery_fanout` ({c['step_wait_s']:g} s wait each) (steps/min) | "
            f"{two:.0f} with {w2} workers | {one:.0f} with {w1} worker | {ratio(two, one)} | more with more workers |"
        )
    d = r.get("redeploy")
    if d and d.get("command_to_loaded_s"):
        lines.append(
            f"| `make deploy LOCATION={d['location']}`, command → new code loaded in the UI, warm build cache (s) | "
            f"{d['command_to_loaded_s']:.1f} | make returned after {d['make_returned_s']:.1f} | "
            f"{d['failed_runs_during']} failed runs | ≤ 60 s, 0 failed runs |"
        )
    n = r.get("scaffold_to_success")
    if n and n.get("first_success_s"):
        lines.append(
            f"| `make new-location` → `up --build` → first SUCCESS of the example asset (s) | {n['first_success_s']:.1f} | "
            f"scaffold {n['scaffold_s']:.1f}, deployed at {n['deployed_s']:.1f} | "
            f"{n['files_created']} files created, {len(n['files_edited_by_scaffold'])} edited by the scaffold, none by hand | ≤ 300 s |"
        )
    b = r.get("backfill")
    if b and b.get("single_run_s"):
        lines.append(
            f"| Backfill of {b['partitions']} partitions (s) | single run {b['single_run_s']:.1f} | one run per "
            f"partition {b['per_partition_extrapolated_s']:.0f} (extrapolated) | "
            f"{ratio(b['per_partition_extrapolated_s'], b['single_run_s'])} faster | ≥ 10× |"
        )
        if b.get("single_run_direct_s"):
            lines.append(
                f"| … single run launched directly (range tags), no backfill-daemon tick (s) | {b['single_run_direct_s']:.1f} | "
                f"{b.get('per_partition_measured_runs')} per-partition runs measured: {b.get('per_partition_measured_wall_s')} s "
                f"wall, {b.get('max_concurrent_runs')} at a time | "
                f"{ratio(b['per_partition_extrapolated_s'], b['single_run_direct_s'])} faster | |"
            )
    f = r.get("footprint")
    if f and f.get("idle_total_mib"):
        lines += [
            f"| Idle memory, whole stack (MiB) | {f['idle_total_mib']:.0f} | | | ≤ 800 |",
            f"| User-code image (MB) | {f['user_code_image_mb']:.0f} | | | ≤ 600 |",
            f"| Warm `up` to healthy UI (webserver healthy, code location loaded) (s) | {f['warm_up_s']:.1f} | | | ≤ 20 |",
            f"| Cold `up --build` to healthy UI (s) | {f['cold_up_build_s']:.1f} | | | |",
        ]
        for key, label in [
            ("warm_up_all_healthy_s", "warm `up --wait` until every service is healthy (daemon check every 15 s)"),
            ("cold_up_build_all_healthy_s", "cold `up --build --wait` until every service is healthy"),
            ("warm_up_fresh_volumes_s", "warm `up` with fresh volumes (init re-seeds), to healthy UI"),
        ]:
            if f.get(key):
                lines.append(f"| … {label} (s) | {f[key]:.1f} | | | |")
        for target, mb in sorted(f.get("image_mb", {}).items()):
            lines.append(f"| … image `{target}` (MB) | {mb:.0f} | | | |")
        if f.get("user_code_image_mb_upstream_base_estimate"):
            lines.append(
                f"| … user-code image on the upstream base, estimated (MB) | "
                f"{f['user_code_image_mb_upstream_base_estimate']:.0f} | | | {f.get('base_image_note', '')} |"
            )
        for service, mib in sorted(f.get("idle_mib_by_service", {}).items()):
            lines.append(f"| … idle {service} (MiB) | {mib:.0f} | | | |")
    c = r.get("idle_cpu")
    if c and c.get("cpu_s_by_service"):
        lines.append(f"| Idle CPU, whole stack (cores, over {c['seconds']:.0f} s, no runs) | {c['cores']:.2f} | | | |")
        for service, seconds in c["cpu_s_by_service"].items():
            lines.append(f"| … idle {service} (CPU s per {c['seconds']:.0f} s) | {seconds:.1f} | | | |")
    for figure, error in sorted(r.get("stack_errors", {}).items()):
        lines.append(f"| {figure}: not measured | {error[:200]} | | | |")
    if NOTES_MD.exists():
        lines += ["", NOTES_MD.read_text().strip()]
    return "\n".join(lines) + "\n"
