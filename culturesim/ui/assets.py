"""Put the browser assets Solara serves into its local cache, from the npm registry.

Solara's server fetches its front end (the Vuetify app, RequireJS, Font Awesome, ECharts) from
a CDN on first request and caches it under ``sys.prefix/share/solara/cdn``. Where the CDN cannot
be reached (CI, a classroom behind a firewall) the page stays blank. This module fills that cache
from the same packages on the npm registry, once, at install time (``make`` runs it).

Run ``python -m culturesim.ui.assets`` to fill the cache; it does nothing for packages already
there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

__all__ = ["PACKAGES", "cache_dir", "install", "missing"]

#: npm packages (and exact versions) that Solara 1.64's pages and components load from the CDN.
PACKAGES = {
    "@widgetti/solara-vuetify3-app": "5.2.0",
    "@widgetti/solara-vuetify-app": "10.1.1",
    "requirejs": "2.3.6",
    "font-awesome": "4.5.0",
    "echarts": "5.4.0",
    "mermaid": "10.8.0",
    "katex": "0.16.9",
}


def cache_dir() -> Path:
    """Solara's CDN cache directory (``solara.server.settings.assets.proxy_cache_dir``)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def missing(root: Path | None = None) -> list[str]:
    """Packages not yet in the cache, as ``name@version``."""
    root = root or cache_dir()
    return [f"{n}@{v}" for n, v in PACKAGES.items() if not (root / f"{n}@{v}").is_dir()]


def install(root: Path | None = None) -> list[str]:
    """Download each missing package with ``npm pack`` and unpack it into the cache.

    Returns:
        The packages installed now.

    Raises:
        RuntimeError: If npm is not installed or a download fails.
    """
    root = root or cache_dir()
    todo = missing(root)
    if todo and shutil.which("npm") is None:
        raise RuntimeError("npm is needed to fetch the UI's browser assets: apt-get install npm")
    for spec in todo:
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(
                ["npm", "pack", spec, "--silent", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"npm pack {spec} failed: {done.stderr.strip()[-500:]}")
            tgz = next(Path(tmp).glob("*.tgz"))
            with tarfile.open(tgz) as tar:
                tar.extractall(Path(tmp) / "x", filter="data")
            target = root / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.with_name(target.name + ".partial")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.move(Path(tmp) / "x" / "package", staging)
            staging.rename(target)  # complete or absent, never half there
    return todo


if __name__ == "__main__":
    try:
        got = install()
    except RuntimeError as exc:
        print(f"culturesim: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"UI assets: {len(got)} fetched, all {len(PACKAGES)} in {cache_dir()}")
