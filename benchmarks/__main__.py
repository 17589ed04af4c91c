"""``python -m benchmarks`` (``make bench``): measure, print, write results.json and RESULTS.md.

python -m benchmarks                       # every figure; stack figures need `docker compose up`
python -m benchmarks --only throughput --sizes 1000000
python -m benchmarks --only celery         # just the Celery burst (scale profile), 1 and 2 workers
python -m benchmarks --only locations      # just redeploying one location and scaffold -> first SUCCESS
python -m benchmarks --only footprint      # just idle memory and CPU per service, image sizes, warm up
"""

from __future__ import annotations

import argparse

from . import report, throughput

FIGURES = ("throughput", "scale", "stack", "celery", "locations", "footprint")
# Stack figures that can also run alone (on a warm stack): --only name -> stack figure -> results key.
ALONE = {
    "celery": {"celery": "celery"},
    "locations": {"redeploy": "redeploy", "scaffold": "scaffold_to_success"},
    "footprint": {"footprint": "footprint", "idle_cpu": "idle_cpu"},
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=FIGURES, action="append", help="run only these figures (repeatable)")
    parser.add_argument("--sizes", default="1000000,5000000", help="orders CSV sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="runs per throughput measurement (median)")
    args = parser.parse_args()
    only = set(args.only or FIGURES)
    results = {}
    if "throughput" in only:
        sizes = [int(size) for size in args.sizes.split(",")]
        results["orders_throughput"] = throughput.run(sizes, args.repeats)
    if "scale" in only:
        from . import orders_scale

        results.update(orders_scale.run())
    if "stack" in only:
        from . import stack

        results.update(stack.run(skip=() if "celery" in only else ("celery",)))
    elif only & set(ALONE):
        from . import stack

        for name in sorted(only & set(ALONE)):
            figures = ALONE[name]
            measured = stack.run(cold=False, skip=tuple(f for f in stack.FIGURES if f not in figures))
            for key in figures.values():
                if key in measured:
                    results[key] = report.keep_unmeasured(key, measured[key])
                else:
                    print(f"{key} not measured: {measured.get('stack_errors')}")
    report.write(results)
    print(f"\nwrote {report.RESULTS_JSON} and {report.RESULTS_MD}")


if __name__ == "__main__":
    main()
