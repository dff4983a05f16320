"""What the ``warta`` CLI itself says (errors, table headings, confirmations), in English or Bahasa
Indonesia.

The language is Indonesian when ``--lang id`` is given, or else when the locale (LC_ALL,
LC_MESSAGES, LANG; POSIX precedence) starts with ``id``; English otherwise. It is chosen once per
run by ``use``; the same choice goes to the services as ``Accept-Language``, so their refusals
come back in the language the CLI speaks. Messages are keys with ``str.format`` parameters,
written in both languages here; table headings are keyed by their English heading.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

Lang = Literal["en", "id"]

MESSAGES: Mapping[str, tuple[str, str]] = {
    "refused": ("{what}: refused ({status})", "{what}: ditolak ({status})"),
    "unreachable": ("cannot reach {url}: {reason}", "tidak bisa menghubungi {url}: {reason}"),
    "no_key": (
        "no API key: pass --key, set WARTA_KEY, or use --key-role ROLE for the local run",
        "tidak ada kunci API: berikan --key, atur WARTA_KEY, atau pakai --key-role PERAN untuk run lokal",
    ),
    "no_role_key": (
        "no {role} key in {path} (start the local run with `make run`): {error}",
        "tidak ada kunci {role} di {path} (jalankan run lokal dengan `make run`): {error}",
    ),
    "cannot_read": ("cannot read {path}: {error}", "tidak bisa membaca {path}: {error}"),
    "not_valid": ("{path} is not valid {format}: {error}", "{path} bukan {format} yang valid: {error}"),
    "item_not_object": (
        "{file}: the item must be an object (author, approval, content, targets)",
        "{file}: materi harus berupa objek (author, approval, content, targets)",
    ),
    "accepted": ("accepted {content_id}", "diterima {content_id}"),
    "follow_it": ("follow it: warta status {content_id}", "pantau: warta status {content_id}"),
    "no_channel": (
        "there is no channel {channel!r} (known: {known})",
        "tidak ada kanal {channel!r} (yang dikenal: {known})",
    ),
    "bad_day": (
        "--day must be a date like 2026-11-27: {error}",
        "--day harus berupa tanggal seperti 2026-11-27: {error}",
    ),
    "plan_title": (
        "{channel} on {day} ({timezone}): {count} job(s)",
        "{channel} pada {day} ({timezone}): {count} tugas",
    ),
    "lag_title": (
        "consumer lag at {at} (committed vs end offsets, from the broker)",
        "ketertinggalan konsumen pada {at} (offset ter-commit vs akhir, dari broker)",
    ),
    "paused": ("paused {channels}: {reason}", "dijeda {channels}: {reason}"),
    "resumed": ("resumed {channels}: {reason}", "dilanjutkan {channels}: {reason}"),
    "all_channels": ("all channels", "semua kanal"),
    "dead_total": ("{total} dead letter(s)", "{total} dead letter"),
    "not_a_job": ("(not a job)", "(bukan tugas)"),
    "inbox_approving": ("approving the draft by {by}:\n  {text}", "menyetujui draf oleh {by}:\n  {text}"),
    "replayed_to": (
        "replayed: the record is back on {topic} (partition {partition})",
        "diputar ulang: rekaman kembali di {topic} (partisi {partition})",
    ),
    "replaying": (
        "replaying {job_id}: a fresh attempt through the scheduler",
        "mengulang {job_id}: percobaan baru melalui penjadwal",
    ),
    "paused_by": ("paused by {by}: {reason}", "dijeda oleh {by}: {reason}"),
    "open_to_connect": (
        "Open this address to connect the account:\n\n  {url}\n",
        "Buka alamat ini untuk menghubungkan akun:\n\n  {url}\n",
    ),
    "connected": ("connected {channel}: {record}", "terhubung {channel}: {record}"),
    "imported": (
        "imported {count} credential(s) into the vault ({accounts}); the file is shredded",
        "{count} kredensial diimpor ke brankas ({accounts}); berkas dihancurkan",
    ),
    "no_such_file": ("no file {path}", "tidak ada berkas {path}"),
    "connected_as": ("connected {channel} as {reached}", "terhubung {channel} sebagai {reached}"),
    "paste_secret": (
        "credential for {channel} (not echoed): ",
        "kredensial untuk {channel} (tidak ditampilkan): ",
    ),
    "webhook_secret": (
        "connected {channel}. Its signing secret, shown this once (give it to the receiver):\n\n  {secret}\n",
        "terhubung {channel}. Rahasia penandatanganannya, ditampilkan sekali ini (berikan ke penerima):\n\n  {secret}\n",
    ),
    "scheduler_not_told": (
        "warta channels connect: stored, but the scheduler was not told ({error}); parked jobs wait",
        "warta channels connect: tersimpan, tetapi penjadwal belum diberi tahu ({error}); "
        "tugas yang diparkir menunggu",
    ),
    "not_shared": (
        "stored on this host, but not on the credentials topic ({error}); other hosts do not see it: run it again",
        "tersimpan di host ini, tetapi belum di topik kredensial ({error}); host lain belum melihatnya: "
        "jalankan lagi",
    ),
    "reencrypted": (
        "re-encrypted {count} credentials with the new key; keep the old key until every worker restarted",
        "{count} kredensial dienkripsi ulang dengan kunci baru; simpan kunci lama sampai setiap worker "
        "dimulai ulang",
    ),
    "exists_not_overwritten": ("{path} exists; not overwritten", "{path} sudah ada; tidak ditimpa"),
    "wrote_key": ("wrote a new key to {path} (mode 0600)", "kunci baru ditulis ke {path} (mode 0600)"),
    "sandbox_grant": (
        "a sandbox grant for {channel}'s demo account, not a real token:",
        "izin sandbox untuk akun demo {channel}, bukan token sungguhan:",
    ),
    "inbox_count": (
        "{shown} shown of {total}; {waiting} waiting past their answer target",
        "{shown} ditampilkan dari {total}; {waiting} menunggu melewati target jawaban",
    ),
    "inbox_more": ("more: --cursor {cursor} (or --all)", "berikutnya: --cursor {cursor} (atau --all)"),
    "inbox_not_approved": ("(not approved yet)", "(belum disetujui)"),
    "inbox_drafted": (
        "{comment}: reply drafted; it waits for an approver (warta inbox approve {comment})",
        "{comment}: draf balasan dibuat; menunggu penyetuju (warta inbox approve {comment})",
    ),
    "inbox_done": ("{action} {comment}: now {state}", "{action} {comment}: sekarang {state}"),
    "template_saved": ("saved answer {name} saved", "jawaban tersimpan {name} disimpan"),
    "template_deleted": ("saved answer {name} deleted", "jawaban tersimpan {name} dihapus"),
    "no_callback": ("no callback before the timeout", "tidak ada callback sebelum batas waktu"),
    "complaint_count": ("{total} complaint(s); {overdue} overdue", "{total} pengaduan; {overdue} terlambat"),
    "name_a_channel": ("warta sandbox token: name a channel", "warta sandbox token: sebutkan sebuah kanal"),
    "unknown_columns": (
        "{path}: unknown column(s) {unknown}; known: {known}",
        "{path}: kolom tidak dikenal {unknown}; yang dikenal: {known}",
    ),
    "import_summary": (
        "imported {file}: {accepted} accepted, {earlier} already imported, {rejected} rejected (of {rows} rows)",
        "{file} diimpor: {accepted} diterima, {earlier} sudah diimpor, {rejected} ditolak (dari {rows} baris)",
    ),
    "import_accepted": ("  line {line}: accepted {content_id}", "  baris {line}: diterima {content_id}"),
    "import_rejected": ("  line {line}: rejected {reason}", "  baris {line}: ditolak {reason}"),
    "import_earlier": (
        "  line {line}: already imported by an earlier run, not sent again",
        "  baris {line}: sudah diimpor sebelumnya, tidak dikirim lagi",
    ),
    "not_utf8_csv": (
        '{path}: not a CSV file in UTF-8 ({error}); save it as "CSV UTF-8"',
        '{path}: bukan berkas CSV dalam UTF-8 ({error}); simpan sebagai "CSV UTF-8"',
    ),
    "report_refused": (
        "the analytics API refused the report ({status}): {message}",
        "API analitik menolak laporan ({status}): {message}",
    ),
    "report_unreachable": (
        "the analytics API at {url} is unreachable: {error}",
        "API analitik di {url} tidak bisa dihubungi: {error}",
    ),
    "report_not_json": (
        "the analytics API answered something other than JSON: {error}",
        "API analitik menjawab sesuatu yang bukan JSON: {error}",
    ),
    "report_version": (
        "the analytics API answered a report this command cannot read (not version {version})",
        "API analitik menjawab laporan yang tidak bisa dibaca perintah ini (bukan versi {version})",
    ),
    "report_lacks": (
        "the analytics API's report lacks {missing}",
        "laporan API analitik tidak memuat {missing}",
    ),
    "cannot_write_report": ("cannot write the report: {error}", "tidak bisa menulis laporan: {error}"),
    "health_unreachable": (
        "(health not shown: the console did not answer: {error})",
        "(kesehatan tidak ditampilkan: konsol tidak menjawab: {error})",
    ),
    "health_needs_operator": (
        "(health needs an operator's key: the console answered {status})",
        "(kesehatan kanal memerlukan kunci operator: konsol menjawab {status})",
    ),
    # --- what ``warta dev`` says (warta.devrun, warta.dev_welcome) ----------------------------
    "dev_restarting": (
        "warta dev: {name} exited with {code}; restarting it (see {log})",
        "warta dev: {name} berhenti dengan kode {code}; dimulai ulang (lihat {log})",
    ),
    "dev_stopping": ("warta dev: stopping…", "warta dev: menghentikan…"),
    "dev_cannot_delete": (
        "warta: could not delete {prefix}* topics: {error}",
        "warta: topik {prefix}* tidak bisa dihapus: {error}",
    ),
    "dev_exited": ("{name} exited with {code}:\n{tail}", "{name} berhenti dengan kode {code}:\n{tail}"),
    "dev_not_ready": (
        "{waiting} not ready within {timeout} s; see {logs}",
        "{waiting} belum siap dalam {timeout} detik; lihat {logs}",
    ),
    "dev_sandbox_port_taken": (
        "warta dev: port {port} (the sandbox) is taken; set WARTA_SANDBOX_PORT to a free port",
        "warta dev: porta {port} (sandbox) sudah dipakai; atur WARTA_SANDBOX_PORT ke porta yang bebas",
    ),
    "dev_welcome": (
        """
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
In another shell, first (warta is in .venv/bin; the commands' defaults are a plain make run's):
  {cli_env}

Ctrl-C stops everything.""",
        """
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
Di shell lain, lebih dulu (warta ada di .venv/bin; bawaan perintahnya milik make run biasa):
  {cli_env}

Ctrl-C menghentikan semuanya.""",
    ),
}

HEADINGS: Mapping[str, str] = {
    "CHANNEL": "KANAL",
    "STATE": "STATUS",
    "SLOT (UTC)": "SLOT (UTC)",
    "ATTEMPT": "PERCOBAAN",
    "URL / LAST ERROR / NOTE": "URL / GALAT TERAKHIR / CATATAN",
    "LOCAL": "LOKAL",
    "CONTENT": "KONTEN",
    "WHY THIS SLOT": "ALASAN SLOT INI",
    "GROUP": "GRUP",
    "LAG": "TERTINGGAL",
    "TOPIC": "TOPIK",
    "PARTITION": "PARTISI",
    "COMMITTED": "TER-COMMIT",
    "END": "AKHIR",
    "ID": "ID",
    "AT": "WAKTU",
    "FROM": "DARI",
    "JOB": "TUGAS",
    "REASON": "ALASAN",
    "PLATFORM": "PLATFORM",
    "TIMEZONE": "ZONA WAKTU",
    "HEALTH": "KESEHATAN",
    "PAUSE": "JEDA",
    "LAST ERROR": "GALAT TERAKHIR",
    "KEY": "KUNCI",
    "AUTHOR": "PENULIS",
    "AT (UTC)": "WAKTU (UTC)",
    "ASSIGNEE": "PENANGGUNG JAWAB",
    "COMMENT": "KOMENTAR",
    "POST": "UNGGAHAN",
    "URL": "URL",
    "LAST CHANGE": "PERUBAHAN TERAKHIR",
    "REPLY": "BALASAN",
    "DRAFTED → APPROVED": "DRAF → DISETUJUI",
    "POSTED": "TERKIRIM",
    "ON THE PLATFORM": "DI PLATFORM",
    "FIELD": "KOLOM",
    "VALUE": "NILAI",
    "NAME": "NAMA",
    "BY": "OLEH",
    "ENGLISH": "BAHASA INGGRIS",
    "INDONESIAN": "BAHASA INDONESIA",
    "NEXT DUE (UTC)": "TENGGAT BERIKUTNYA (UTC)",
    "OVERDUE": "TERLAMBAT",
}

_chosen: list[Lang] = []  # the run's language, once ``use`` has chosen it


def language_of(flag: str | None, env: Mapping[str, str] | None = None) -> Lang:
    """``--lang`` when given, else the locale's language (the first of LC_ALL, LC_MESSAGES, LANG
    that is set): Indonesian when it starts with ``id``."""
    if flag:
        return "id" if flag.lower().startswith("id") else "en"
    env = os.environ if env is None else env
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "id" if value.lower().startswith("id") else "en"
    return "en"


def use(lang: Lang) -> None:
    """Speak ``lang`` for the rest of this run."""
    _chosen[:] = [lang]


def current() -> Lang:
    return _chosen[0] if _chosen else language_of(None)


def say(key: str, **params: object) -> str:
    """The message ``key`` in the run's language."""
    english, indonesian = MESSAGES[key]
    return (indonesian if current() == "id" else english).format(**params)


def heading(english: str) -> str:
    """A table heading in the run's language."""
    return HEADINGS.get(english, english) if current() == "id" else english
