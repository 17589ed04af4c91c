#!/usr/bin/env bash
# The test command (`make test`), in three phases, with a timing summary at the end:
#   1. the images of the stack tests build in the background (when a Docker engine answers),
#   2. meanwhile the unit tests run in parallel (pytest-xdist, TEST_WORKERS, default auto),
#   3. the stack tests (markers e2e and faults) run on ONE shared stack (tests/e2e/session.py).
# Every phase runs even when an earlier one failed, so one run shows every failure; the exit
# status is non-zero if any phase failed. Without a Docker engine the stack tests are skipped
# with the reason, unless CI=true / E2E_REQUIRED=1 makes that a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
ARTIFACTS=tests/e2e/artifacts
mkdir -p "$ARTIFACTS"
started=$SECONDS
summary=()
status=0

record() {  # record NAME SECONDS EXIT
  summary+=("$(printf '%-34s %5ss  %s' "$1" "$2" "$([ "$3" -eq 0 ] && echo ok || echo "FAILED ($3)")")")
  [ "$3" -eq 0 ] || status=1
}

build_pid=
if "$PYTHON" -c "import sys; from tooling.stack import docker_problem; sys.exit(bool(docker_problem()))"; then
  build_started=$SECONDS
  # The same files and profile the stack tests use (session.py, tooling/scale.py).
  docker compose -f docker-compose.yml -f tests/e2e/compose.alerts.yml --profile scale build \
    > "$ARTIFACTS/build.log" 2>&1 &
  build_pid=$!
fi

phase=$SECONDS
"$PYTHON" -m pytest -m "not e2e and not faults" -n "${TEST_WORKERS:-auto}" --durations=10
record "unit tests (parallel)" $((SECONDS - phase)) $?

if [ -n "$build_pid" ]; then
  wait "$build_pid"
  built=$?
  [ "$built" -eq 0 ] || tail -n 40 "$ARTIFACTS/build.log"
  record "images (beside the unit tests)" $((SECONDS - build_started)) "$built"
fi

phase=$SECONDS
"$PYTHON" -m pytest -m "e2e or faults" --durations=25
record "stack tests (e2e, faults)" $((SECONDS - phase)) $?

echo
echo "== make test: where the time went =="
printf '  %s\n' "${summary[@]}"
printf '  %-34s %5ss\n' "total" $((SECONDS - started))
exit "$status"
