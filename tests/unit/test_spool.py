"""Large media go to an unlinked spool file, small ones stay in memory; nothing is left behind."""

from __future__ import annotations

from pathlib import Path

from services.publisher.spool import Spool


def test_a_small_file_stays_in_memory(tmp_path: Path) -> None:
    spool = Spool(spill_bytes=1024, directory=tmp_path)
    spool.write(b"a" * 600)
    spool.write(b"b" * 424)
    data = spool.finish()
    assert isinstance(data, bytes)
    assert data == b"a" * 600 + b"b" * 424
    assert not spool.spilled


def test_a_large_file_is_mapped_from_an_unlinked_spool(tmp_path: Path) -> None:
    spool = Spool(spill_bytes=1024, directory=tmp_path / "spool")
    parts = [bytes([n]) * 700 for n in range(10)]
    for part in parts:
        spool.write(part)
    assert spool.spilled
    data = spool.finish()
    assert isinstance(data, memoryview)
    assert len(data) == spool.size == 7000
    assert bytes(data) == b"".join(parts)
    assert bytes(data[700:1400]) == parts[1]  # chunks are sliced from it, as the uploads do
    assert list((tmp_path / "spool").iterdir()) == []  # created unlinked: nothing to clean up


def test_discarding_a_spool_mid_way_leaves_nothing(tmp_path: Path) -> None:
    spool = Spool(spill_bytes=10, directory=tmp_path)
    spool.write(b"x" * 100)
    spool.discard()
    assert list(tmp_path.iterdir()) == []
