"""One note per job on disk (WhatsApp's sends): kept apart, kept inside its folder, pruned when old."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from services.publisher.adapters.upload_state import KEEP, JobLog

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_a_job_s_note_is_its_own_file_and_a_write_leaves_the_others_alone(tmp_path: Path) -> None:
    log = JobLog(tmp_path, "whatsapp")
    log.put("job-1", {"+6281200000001": "wamid.A"})
    log.put("job-2", {"+6281200000002": "pending"})
    log.put("job-1", {"+6281200000001": "wamid.A", "+6281200000003": "wamid.B"})
    assert log.get("job-2") == {"+6281200000002": "pending"}
    assert log.get("job-1") == {"+6281200000001": "wamid.A", "+6281200000003": "wamid.B"}
    assert log.get("job-3") is None
    assert sorted(p.name for p in (tmp_path / "uploads" / "whatsapp").iterdir()) == [
        "job-1.json",
        "job-2.json",
    ]


@given(st.text(min_size=1, max_size=300))
def test_any_job_id_names_a_file_inside_the_platform_s_folder(job_id: str) -> None:
    log = JobLog(Path("/state"), "whatsapp")
    path = log._path(job_id)
    assert path.parent == Path("/state/uploads/whatsapp")
    assert path.name.endswith(".json")
    assert not path.name.startswith(".")
    assert log._path(job_id) == path  # the same job, the same note


def test_a_corrupt_note_reads_as_none(tmp_path: Path) -> None:
    log = JobLog(tmp_path, "whatsapp")
    log.put("job-1", {"a": "b"})
    (tmp_path / "uploads" / "whatsapp" / "job-1.json").write_bytes(b"{not json")
    assert log.get("job-1") is None


def test_notes_older_than_keep_are_pruned_at_most_once_a_day(tmp_path: Path) -> None:
    log = JobLog(tmp_path, "whatsapp")
    assert log.prune(NOW) == 0  # no folder yet
    log = JobLog(tmp_path, "whatsapp")
    log.put("old", {"x": "wamid.1"})
    log.put("recent", {"x": "wamid.2"})
    stale = (NOW - KEEP - timedelta(hours=1)).timestamp()
    os.utime(tmp_path / "uploads" / "whatsapp" / "old.json", (stale, stale))
    assert log.prune(NOW) == 1
    assert log.get("old") is None
    assert log.get("recent") == {"x": "wamid.2"}
    log.put("old-again", {"x": "wamid.3"})
    os.utime(tmp_path / "uploads" / "whatsapp" / "old-again.json", (stale, stale))
    assert log.prune(NOW + timedelta(hours=23)) == 0
    assert log.prune(NOW + timedelta(days=1)) == 1
