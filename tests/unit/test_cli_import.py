"""``warta import`` run again on an edited sheet sends each row once, judged by a stateful fake of
ingest's Idempotency-Key rule (same key and body: the same item; same key, another body: 409)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from warta import ops_import
from warta.cli import main
from warta.ops_client import Answer, Client


@dataclass(frozen=True)
class FakeIngest(Client):
    """Ingest's POST /v1/content as far as keys go: items kept, one per key, by body digest."""

    items: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (body digest, id)

    def call(
        self, method: str, url: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Answer:
        assert isinstance(body, dict)
        if any(t["channel"] == "nowhere" for t in body["targets"]):
            return Answer(
                422, {"errors": [{"field": "targets[0].channel", "message": "unknown", "rule": "channel"}]}
            )
        key = (headers or {})["Idempotency-Key"]
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        known = self.items.setdefault(key, (digest, f"c{len(self.items) + 1}"))
        if known[0] != digest:
            return Answer(
                409, {"errors": [{"field": None, "message": "key reused", "rule": "idempotency_key"}]}
            )
        return Answer(202, {"content_id": known[1]})


@pytest.fixture
def ingest(monkeypatch: pytest.MonkeyPatch) -> FakeIngest:
    fake = FakeIngest("http://ingest.test", "http://console.test", "k")
    monkeypatch.setattr(ops_import, "client_of", lambda args: fake)
    return fake


def run_import(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    main(["import", str(path), "--json", "--key", "k"])
    summary: dict[str, Any] = json.loads(capsys.readouterr().out)
    return summary


def write(path: Path, lines: list[str], mtime: int) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.utime(path, (mtime, mtime))


HEADER = "text,channels,author,approved_by"


def test_a_row_deleted_above_another_does_not_send_it_again(
    tmp_path: Path, ingest: FakeIngest, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "items.csv"
    write(sheet, [HEADER + ",approved_at", *(f"{t},{c},rina,yuyun,2026-12-07T01:00:00+00:00" for t, c in
          [("Satu", "x-demo"), ("Dua", "nowhere"), ("Tiga", "x-demo")])], 1_800_000_000)  # fmt: skip
    first = run_import(sheet, capsys)
    assert [r["content_id"] for r in first["accepted"]] == ["c1", "c2"]
    write(sheet, [HEADER + ",approved_at", *(f"{t},x-demo,rina,yuyun,2026-12-07T01:00:00+00:00" for t in
          ["Satu", "Tiga"])], 1_800_000_000)  # fmt: skip
    again = run_import(sheet, capsys)
    assert [r["content_id"] for r in again["accepted"]] == ["c1", "c2"]  # Tiga, now line 3: c2 again
    assert len(ingest.items) == 2


def test_a_sheet_fixed_and_saved_again_sends_only_the_fixed_row(
    tmp_path: Path, ingest: FakeIngest, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "items.csv"
    write(
        sheet,
        [HEADER, "Satu,x-demo,rina,yuyun", "Dua,nowhere,rina,yuyun", "Tiga,x-demo,rina,yuyun"],
        1_800_000_000,
    )
    first = run_import(sheet, capsys)
    assert [r["line"] for r in first["rejected"]] == [3]
    # Saved again (a new mtime, so a new default approved_at for every row) with Dua fixed.
    write(
        sheet,
        [HEADER, "Satu,x-demo,rina,yuyun", "Dua,x-demo,rina,yuyun", "Tiga,x-demo,rina,yuyun"],
        1_800_003_600,
    )
    again = run_import(sheet, capsys)
    assert [r["line"] for r in again["accepted"]] == [3]
    assert [r["line"] for r in again["already_imported"]] == [2, 4]  # not "rejected"
    assert again["rejected"] == []
    assert len(ingest.items) == 3


def test_identical_rows_are_two_items_and_stay_two(
    tmp_path: Path, ingest: FakeIngest, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "items.csv"
    write(sheet, [HEADER, "Sama,x-demo,rina,yuyun", "Sama,x-demo,rina,yuyun"], 1_800_000_000)
    assert len(run_import(sheet, capsys)["accepted"]) == 2
    assert len(run_import(sheet, capsys)["accepted"]) == 2
    assert len(ingest.items) == 2


def test_a_sheet_not_in_utf8_is_a_usage_error_not_a_traceback(
    tmp_path: Path, ingest: FakeIngest, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "items.csv"
    sheet.write_bytes((HEADER + "\nCaf\xe9 rakyat \x96 Samarinda,x-demo,rina,yuyun\n").encode("latin-1"))
    assert main(["import", str(sheet), "--key", "k"]) == 2
    assert "CSV UTF-8" in capsys.readouterr().err
    assert ingest.items == {}
