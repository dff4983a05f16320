"""What ``warta dev`` (``make run``) says once every service answers, and while it runs, in the
CLI's language (``warta.cli_messages``: ``--lang``, else the locale)."""

from __future__ import annotations

from collections.abc import Mapping

from warta.cli_messages import current

_WELCOME: Mapping[str, str] = {
    "en": """
Warta is running (logs in {logs}).
  ingest API     {ingest}        docs: {ingest}/docs
  dashboard      {console}/        (operator key: {operator_key})
  metrics        {console}/metrics  (topics, lag, outcomes; ingest: {ingest}/metrics)
  reach figures  {analytics}/v1/reach?by=channel&window=week  (by=channel|hour|topic|tag, window=day|week|all)
  reach report   {analytics}/reach  (the week's report page; warta report writes it to a file)
  inbox          {inbox}/        (citizens' comments; any key)
  sandbox        {sandbox}        (the platforms' contract fakes)
  API keys       {keys_file}

Post a first item ({approver} approves what rina wrote):
{curl}
Or with the CLI:  WARTA_KEY={approver_key} warta submit item.json   (see warta --help)

Ctrl-C stops everything.""",
    "id": """
Warta berjalan (log di {logs}).
  API ingest       {ingest}        dokumentasi: {ingest}/docs
  dasbor           {console}/        (kunci operator: {operator_key})
  metrik           {console}/metrics  (topik, ketertinggalan, hasil; ingest: {ingest}/metrics)
  angka jangkauan  {analytics}/v1/reach?by=channel&window=week  (by=channel|hour|topic|tag, window=day|week|all)
  laporan          {analytics}/reach?lang=id  (halaman laporan mingguan; warta report menulisnya ke berkas)
  kotak masuk      {inbox}/        (komentar warga; kunci apa pun)
  sandbox          {sandbox}        (tiruan kontrak platform)
  kunci API        {keys_file}

Kirim materi pertama ({approver} menyetujui tulisan rina):
{curl}
Atau dengan CLI:  WARTA_KEY={approver_key} warta submit item.json   (lihat warta --help)

Ctrl-C menghentikan semuanya.""",
}

_CURL = """
  curl -s -X POST {ingest}/v1/content \\
    -H 'Authorization: Bearer {approver_key}' -H 'Content-Type: application/json' \\
    -d '{{"author": "rina", "approval": {{"approved_by": "{approver}", "approved_at": "2026-11-26T10:00:00+08:00"}},
         "priority": "urgent", "content": {{"text": "Gubernur meresmikan jembatan baru."}},
         "targets": [{{"channel": "mastodon-demo"}}]}}'

  curl -s {ingest}/v1/content/<content_id> -H 'Authorization: Bearer {approver_key}'
"""

_SAID: Mapping[str, tuple[str, str]] = {
    "restarting": (
        "warta dev: {name} exited with {code}; restarting it (see {log})",
        "warta dev: {name} berhenti dengan kode {code}; dimulai ulang (lihat {log})",
    ),
    "stopping": ("warta dev: stopping…", "warta dev: menghentikan…"),
    "cannot_delete": (
        "warta: could not delete {prefix}* topics: {error}",
        "warta: topik {prefix}* tidak bisa dihapus: {error}",
    ),
    "exited": ("{name} exited with {code}:\n{tail}", "{name} berhenti dengan kode {code}:\n{tail}"),
    "not_ready": (
        "{waiting} not ready within {timeout} s; see {logs}",
        "{waiting} belum siap dalam {timeout} detik; lihat {logs}",
    ),
}


def welcome(urls: Mapping[str, str], keys: Mapping[str, Mapping[str, str]], logs: str, keys_file: str) -> str:
    """Where each service is, and a first item to post; ``urls`` by service, ``keys`` by role."""
    values = {
        **urls,
        "logs": logs,
        "keys_file": keys_file,
        "operator_key": keys["operator"]["key"],
        "approver": keys["approver"]["person"],
        "approver_key": keys["approver"]["key"],
    }
    return _WELCOME[current()].format(curl=_CURL.format(**values), **values)


def said(key: str, **params: object) -> str:
    english, indonesian = _SAID[key]
    return (indonesian if current() == "id" else english).format(**params)
