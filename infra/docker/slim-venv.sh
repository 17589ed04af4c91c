#!/bin/sh
# Drop what a virtualenv never uses at run time (called by the Dockerfile's builder stages).
# Each deletion is something no import path of dagster, the code location or the run
# workers reaches; `python -c 'import ...'` checks at the end of the build stage prove it.
#   usage: slim-venv.sh /opt/venv
set -eu
venv=${1:?usage: slim-venv.sh VENV}
site=$(echo "$venv"/lib/python3*/site-packages)

before=$(du -sm "$venv" | cut -f1)

# The venv's own pip, or, once an earlier run removed it (a stage that installs on top of a
# slimmed venv), the builder's pip acting on the venv.
venv_pip() {
    if "$venv/bin/python" -c "import pip" 2>/dev/null; then
        "$venv/bin/python" -m pip "$@"
    else
        python3 -m pip --python "$venv/bin/python" "$@"
    fi
}

# kubernetes (dagster-k8s, the Kubernetes build of the user-code image): `kubernetes.aio`
# is the client's asyncio copy (40 MB), which neither dagster_k8s nor `import kubernetes`
# imports. aiohttp and its stack (13 MB) are installed only for it, so they go too (with
# pip, so before pip goes), unless another installed distribution requires one of them.
if [ -d "$site/kubernetes/aio" ]; then
    rm -rf "$site/kubernetes/aio"
    aio_only=$("$venv/bin/python" -c '
import re
from importlib.metadata import distributions
stack = {"aiohttp", "aiohappyeyeballs", "aiosignal", "frozenlist", "multidict", "propcache", "yarl"}
def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()
for dist in distributions():
    if norm(dist.metadata["Name"]) in stack | {"kubernetes"}:
        continue
    for req in dist.requires or []:
        if norm(re.match(r"[A-Za-z0-9._-]+", req).group()) in stack and "extra ==" not in req:
            raise SystemExit(0)  # someone else needs them: keep the whole stack
print(" ".join(sorted(stack)))
')
    if [ -n "$aio_only" ]; then
        # shellcheck disable=SC2086  # a list of distribution names
        venv_pip uninstall -y -q $aio_only >/dev/null 2>&1 || true
    fi
fi

# pip/setuptools/wheel: nothing installs into a built image.
if "$venv/bin/python" -c "import pip" 2>/dev/null; then
    "$venv/bin/python" -m pip uninstall -y -q pip setuptools wheel >/dev/null 2>&1 || true
fi

# Test suites shipped inside packages (pandas/tests alone is ~45 MB).
find "$site" -mindepth 2 -depth -type d -name tests -exec rm -rf {} +

# pyarrow: C++ headers and Cython sources (for building extensions), the C++ test
# module, and Arrow Flight (RPC; `import pyarrow.flight` is never used here).
if [ -d "$site/pyarrow" ]; then
    rm -rf "$site/pyarrow/include" "$site/pyarrow/src"
    find "$site/pyarrow" \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' \) -delete
    rm -f "$site"/pyarrow/_pyarrow_cpp_tests*.so "$site"/pyarrow/*flight*
    # Wheels cannot hold symlinks: libarrow_python.so and .so.N.M.P are copies of the
    # .so.N that the extension modules are linked against.
    for lib in "$site"/pyarrow/libarrow_python*.so; do
        major=$(ls "$lib".* 2>/dev/null | grep -E '\.so\.[0-9]+$' || true)
        [ -n "$major" ] || continue
        ls "$lib" "$lib".* | grep -vxF "$major" | xargs rm -f
    done
fi

# botocore: API models of ~450 AWS services; the stack talks to S3 (plus STS/SSO for
# credential providers). Keep those and the shared endpoint/partition/retry files.
if [ -d "$site/botocore/data" ]; then
    find "$site/botocore/data" -mindepth 1 -maxdepth 1 -type d \
        ! -name s3 ! -name sts ! -name sso ! -name sso-oidc -exec rm -rf {} +
fi

# The UI's JavaScript source maps (browser dev tools only).
if [ -d "$site/dagster_webserver" ]; then
    find "$site/dagster_webserver" -name '*.map' -delete
fi

# Byte-code for everything left, so no container compiles at start (the non-root users
# cannot write next to the sources, and would recompile on every start).
"$venv/bin/python" -m compileall -q -j 0 "$site" >/dev/null || true

after=$(du -sm "$venv" | cut -f1)
echo "slim-venv: $venv ${before} MB -> ${after} MB"
