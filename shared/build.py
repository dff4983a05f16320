"""Which build of Warta runs: the version the wheel's metadata carries."""

from __future__ import annotations

from importlib import metadata


def version() -> str:
    """Warta's installed version, or "dev" when run from a source tree that was never installed."""
    try:
        return metadata.version("warta")
    except metadata.PackageNotFoundError:
        return "dev"
