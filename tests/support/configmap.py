"""A mounted ConfigMap volume, updated exactly as the kubelet's AtomicWriter does it.

Layout (kubernetes/kubernetes pkg/volume/util/atomic_writer.go)::

    <mount>/routing.yaml -> ..data/routing.yaml
    <mount>/..data       -> ..2026_12_02_05_11_15.1234567890
    <mount>/..2026_12_02_05_11_15.1234567890/routing.yaml     (the real file)

An update writes the new payload into a fresh timestamped directory, creates the symlink
``..data_tmp`` pointing at it, ``rename(2)``s that over ``..data`` (the one atomic step), prunes
visible links of keys that went away, and removes the old timestamped directory. The visible
``routing.yaml`` link itself is never touched: a watcher on that path (or on the directory it
resolves to) sees nothing but the old directory disappearing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

DATA = "..data"
DATA_TMP = "..data_tmp"


class ConfigMapVolume:
    """A directory laid out and updated like a kubelet-managed ConfigMap mount."""

    def __init__(self, mount: Path, payload: Mapping[str, str]) -> None:
        self.mount = mount
        mount.mkdir(parents=True, exist_ok=True)
        self.updates = 0
        current = self._write_payload(payload)
        os.symlink(current.name, mount / DATA)
        for key in payload:
            os.symlink(f"{DATA}/{key}", mount / key)

    def path(self, key: str) -> Path:
        """The path a container reads (the visible symlink), as mounted at ``mountPath``."""
        return self.mount / key

    def current_dir(self) -> Path:
        return self.mount / os.readlink(self.mount / DATA)

    def update(self, payload: Mapping[str, str]) -> None:
        """One kubelet sync with new data: new dir, ``..data_tmp``, rename over ``..data``, cleanup."""
        old = self.current_dir()
        new = self._write_payload(payload)
        tmp_link = self.mount / DATA_TMP
        os.symlink(new.name, tmp_link)
        os.rename(tmp_link, self.mount / DATA)
        # Keys no longer in the payload lose their visible link; new keys get one.
        for entry in self.mount.iterdir():
            if not entry.name.startswith("..") and entry.name not in payload:
                entry.unlink()
        for key in payload:
            if not (self.mount / key).is_symlink():
                os.symlink(f"{DATA}/{key}", self.mount / key)
        shutil.rmtree(old)
        self.updates += 1

    def _write_payload(self, payload: Mapping[str, str]) -> Path:
        # The kubelet names it by the UTC time plus a random suffix (os.MkdirTemp).
        stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
        directory = Path(tempfile.mkdtemp(prefix=stamp, dir=self.mount))
        for key, text in payload.items():
            (directory / key).write_text(text, encoding="utf-8")
            (directory / key).chmod(0o644)
        directory.chmod(0o755)
        return directory
