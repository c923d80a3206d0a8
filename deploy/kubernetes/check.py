#!/usr/bin/env python3
"""Checks the Kubernetes manifests offline (issue 21), as CI runs it:

1. every manifest validates strictly (unknown fields refused) against the Kubernetes API
   schemas with `kubernetes-validate` (PyPI; its schemas ship with it, no cluster needed);
2. every environment variable a container sets is one its binary reads: listed by the
   binary's `--help` (`[env: NAME]`) or read with `env::var("NAME")` in its crate, so a
   renamed flag cannot leave the manifests silently stale;
3. every command is one of the image's two binaries and every probe path one it serves.

Usage: deploy/kubernetes/check.py [BIN_DIR]   (default target/debug; pip-installs
kubernetes-validate when missing).
"""

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "target" / "debug"
CRATE = {"control-plane": ROOT / "control-plane" / "src", "data-plane": ROOT / "data-plane" / "src"}
PROBES = {"control-plane": {"/healthz", "/readyz"}, "data-plane": {"/healthz", "/readyz"}}


def main() -> int:
    try:
        import kubernetes_validate  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "kubernetes-validate"], check=True)
    import yaml

    manifests = sorted(p for p in HERE.glob("*.yaml") if p.name != "kustomization.yaml")
    schema = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet",
                             *map(str, manifests)])
    if schema.returncode != 0:
        print("check.py: the manifests above fail the Kubernetes API schemas", file=sys.stderr)
        return 1

    failures = []
    for path in manifests:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "Deployment":
                continue
            for c in doc["spec"]["template"]["spec"]["containers"]:
                binary = c["command"][0]
                if binary not in CRATE:
                    failures.append(f"{path.name}: {c['name']} runs {binary!r}, not an image binary")
                    continue
                help_text = subprocess.run([str(BIN / binary), "--help"], capture_output=True,
                                           text=True, check=True).stdout
                known = set(re.findall(r"\[env: ([A-Z0-9_]+)", help_text))
                for src in CRATE[binary].rglob("*.rs"):
                    known |= set(re.findall(r'env::var\("([A-Z0-9_]+)"\)', src.read_text()))
                for e in c.get("env", []):
                    if e["name"] not in known:
                        failures.append(f"{path.name}: {binary} reads no {e['name']}")
                for probe in ("readinessProbe", "livenessProbe"):
                    p = c.get(probe, {}).get("httpGet", {}).get("path")
                    if p not in PROBES[binary]:
                        failures.append(f"{path.name}: {binary} {probe} {p!r} is not one of {PROBES[binary]}")
    for f in failures:
        print(f"check.py: {f}", file=sys.stderr)
    if not failures:
        print(f"check.py: {len(manifests)} manifests valid, env and probes match the binaries")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
