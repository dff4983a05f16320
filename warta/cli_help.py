"""The ``warta`` CLI's help in Bahasa Indonesia: the commands' descriptions and help strings, and
the words argparse itself writes (usage, section titles, its errors).

The parser is built in English, once; ``translate`` then rewrites it for the run's language
(``warta.cli_messages``: ``--lang``, else the locale), before anything is parsed, so ``-h`` and a
usage error already speak it. ``HELP`` is keyed by the English text: a help string added without
its Indonesian sentence is caught by ``tests/unit/test_cli_help.py``, which walks every command.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Mapping
from typing import NoReturn

from warta.cli_inbox import DEFAULT_INBOX_URL
from warta.cli_messages import Lang, current
from warta.ops_import import CSV_COLUMNS
from warta.report import DEFAULT_URL as ANALYTICS_URL

_NAME = "{name}"  # a template's placeholder, written literally in two help strings

HELP: Mapping[str, str] = {
    # argparse's own words
    "positional arguments": "argumen posisi",
    "options": "opsi",
    "show this help message and exit": "tampilkan bantuan ini lalu keluar",
    "show program's version number and exit": "tampilkan versi program lalu keluar",
    # warta and its services
    "Warta: publish approved content at peak hours": "Warta: terbitkan konten yang disetujui pada jam ramai",
    "the CLI's language (default: the locale's; id when it starts with id)": (
        "bahasa CLI (bawaan: bahasa locale; id bila diawali id)"
    ),
    "run the HTTP ingest service": "jalankan layanan HTTP ingest",
    "run the scheduler": "jalankan penjadwal",
    "run the publisher of one platform": "jalankan publisher untuk satu platform",
    "run the operators' console: metrics, dashboard, webhooks": "jalankan konsol operator: metrik, dasbor, webhook",
    "run the analytics worker: reach figures and the press office's read API": (
        "jalankan worker analitik: angka jangkauan dan API baca untuk biro pers"
    ),
    "run the inbox (no subcommand), or work it: list, show, reply, approve, assign, hide, close, "
    "delete, reopen, templates": (
        "jalankan kotak masuk (tanpa subperintah), atau kerjakan isinya: list, show, reply, approve, "
        "assign, hide, close, delete, reopen, templates"
    ),
    "serve the platform contract fakes, or mint a demo token": (
        "sajikan tiruan kontrak platform, atau buat token demo"
    ),
    "create every topic (idempotent) and list them": "buat setiap topik (idempoten) lalu tampilkan",
    "run the whole system locally (used by make run)": "jalankan seluruh sistem secara lokal (dipakai make run)",
    "token: the demo channel whose credential to print": "token: kanal demo yang kredensialnya dicetak",
    "token: the whole grant as JSON": "token: seluruh izin sebagai JSON",
    "print the topics as JSON on stdout": "cetak topik sebagai JSON ke stdout",
    # the operators' commands
    "submit an approved item from a JSON or YAML file": "kirim materi yang sudah disetujui dari berkas JSON atau YAML",
    "what happened to an item on each channel": "apa yang terjadi pada sebuah materi di setiap kanal",
    "a channel's plan for one day of its own timezone": "rencana sebuah kanal untuk satu hari di zona waktunya",
    "consumer lag per group and partition": "ketertinggalan konsumen per grup dan partisi",
    "pause publishing on some channels (default: all)": "jeda penerbitan di beberapa kanal (bawaan: semua)",
    "resume publishing on some channels (default: all)": "lanjutkan penerbitan di beberapa kanal (bawaan: semua)",
    "dead letters: list, show ID, replay ID": "dead letter: list, show ID, replay ID",
    "channels, their pauses and health; check; connect": "kanal, jeda dan kesehatannya; check; connect",
    "bulk submit approved items from a CSV file": "kirim banyak materi yang sudah disetujui dari berkas CSV",
    "the encrypted credential vault: keys": "brankas kredensial terenkripsi: kunci",
    "write the week's reach report (HTML, CSV or JSON)": "tulis laporan jangkauan mingguan (HTML, CSV, atau JSON)",
    "ingest's URL (WARTA_URL; default http://127.0.0.1:8080)": (
        "URL ingest (WARTA_URL; bawaan http://127.0.0.1:8080)"
    ),
    "the console's URL (WARTA_CONSOLE_URL; default http://127.0.0.1:8070)": (
        "URL konsol (WARTA_CONSOLE_URL; bawaan http://127.0.0.1:8070)"
    ),
    "API key (default: WARTA_KEY)": "kunci API (bawaan: WARTA_KEY)",
    "use this role's key from the local run's var/dev-keys.json (WARTA_DEV_KEYS)": (
        "pakai kunci peran ini dari var/dev-keys.json milik run lokal (WARTA_DEV_KEYS)"
    ),
    "print the data as JSON on stdout, for scripts": "cetak data sebagai JSON ke stdout, untuk skrip",
    "en or id": "en atau id",
    "default: derived from the file's content": "bawaan: diturunkan dari isi berkas",
    "YYYY-MM-DD in the channel's timezone (default: today there)": (
        "YYYY-MM-DD di zona waktu kanal (bawaan: hari ini di sana)"
    ),
    "also list partitions without lag": "tampilkan juga partisi tanpa ketertinggalan",
    "repeat for several; omit for all channels": "ulangi untuk beberapa; kosongkan untuk semua kanal",
    "dead letter id or job id": "id dead letter atau id tugas",
    f"columns: {', '.join(CSV_COLUMNS)} (approved_at defaults to the file's mtime)": (
        f"kolom: {', '.join(CSV_COLUMNS)} (approved_at bawaannya waktu ubah berkas)"
    ),
    "author of rows without an author column": "penulis untuk baris tanpa kolom author",
    "approver of rows without approved_by (default with --key-role: that dev key's person)": (
        "penyetuju untuk baris tanpa approved_by (bawaan dengan --key-role: pemilik kunci dev itu)"
    ),
    # the inbox
    f"the inbox's URL (WARTA_INBOX_URL; default {DEFAULT_INBOX_URL})": (
        f"URL kotak masuk (WARTA_INBOX_URL; bawaan {DEFAULT_INBOX_URL})"
    ),
    "comments, newest first, filtered": "komentar, terbaru dulu, tersaring",
    "one comment and its reply": "satu komentar beserta balasannya",
    "answer a comment, or draft where four eyes are required": (
        "jawab komentar, atau buat draf bila diwajibkan empat mata"
    ),
    "send another person's draft (approvers)": "kirim draf orang lain (penyetuju)",
    "give a comment to a person": "serahkan komentar kepada seseorang",
    "hide an abusive comment": "sembunyikan komentar yang kasar",
    "close a comment": "tutup komentar",
    "delete an abusive comment on the platform, where it allows it (approvers)": (
        "hapus komentar yang kasar di platform, bila platformnya mengizinkan (penyetuju)"
    ),
    "reopen a hidden or closed comment (shown again on the platform)": (
        "buka kembali komentar yang disembunyikan atau ditutup (tampil lagi di platform)"
    ),
    "saved answers: list, show, save, delete": "jawaban tersimpan: list, show, save, delete",
    "the platform's post id": "id unggahan di platform",
    "the Warta item's tag": "tag materi Warta",
    "per page, 1-500 (default 50)": "per halaman, 1-500 (bawaan 50)",
    "the next_cursor a page before printed": "next_cursor yang dicetak halaman sebelumnya",
    "follow every page": "ikuti setiap halaman",
    "a saved answer's name, filled in for this comment": "nama jawaban tersimpan, diisi untuk komentar ini",
    "the template's language (default: the CLI's)": "bahasa templat (bawaan: bahasa CLI)",
    "answer again a comment already answered": "jawab lagi komentar yang sudah dijawab",
    "lowercase letters, digits, - and _": "huruf kecil, angka, - dan _",
    f"the English text; {_NAME} is the commenter's name": f"teks bahasa Inggris; {_NAME} adalah nama pengomentar",
    f"the Indonesian text; {_NAME} is the commenter's name": (
        f"teks bahasa Indonesia; {_NAME} adalah nama pengomentar"
    ),
    # complaints (SP4N-LAPOR!)
    "citizens' complaints for SP4N-LAPOR!: list, show, record, forward, answer, close": (
        "pengaduan warga untuk SP4N-LAPOR!: list, show, record, forward, answer, close"
    ),
    "complaints, with their next deadline": "pengaduan, dengan tenggat berikutnya",
    "only those past their deadline": "hanya yang melewati tenggat",
    "one complaint": "satu pengaduan",
    "make a comment of the inbox a complaint": "jadikan komentar di kotak masuk sebuah pengaduan",
    "send it to LAPOR! (safe to run again)": "teruskan ke LAPOR! (aman dijalankan lagi)",
    "LAPOR! answered it": "LAPOR! sudah menjawabnya",
    "close it": "tutup pengaduan",
    # credentials and channels
    "each channel's credential: works? which account? expiry?": (
        "kredensial setiap kanal: berfungsi? akun yang mana? kedaluwarsa?"
    ),
    "connect a channel's account: OAuth code + PKCE, loopback callback": (
        "hubungkan akun sebuah kanal: kode OAuth + PKCE, callback loopback"
    ),
    "the app's client id (TikTok: client key); Mastodon: omit it, Warta registers on the instance": (
        "client id aplikasi (TikTok: client key); Mastodon: kosongkan, Warta mendaftar di instance"
    ),
    "the registered redirect URI, behind a proxy (default: loopback)": (
        "redirect URI yang terdaftar, di balik proxy (bawaan: loopback)"
    ),
    "loopback callback port (default: any free one)": "port callback loopback (bawaan: port bebas mana pun)",
    "WordPress: the user the application password belongs to (read from stdin)": (
        "WordPress: pengguna pemilik application password (dibaca dari stdin)"
    ),
    "fetch the page yourself (the sandbox consents)": "ambil halamannya sendiri (sandbox menyetujui)",
    "re-encrypt every credential with a new key": "enkripsi ulang setiap kredensial dengan kunci baru",
    "move a clear secrets file into the vault (replacing), then shred it": (
        "pindahkan berkas rahasia terbuka ke brankas (menggantikan), lalu hancurkan berkasnya"
    ),
    "write a new key to a file readable by its owner only": (
        "tulis kunci baru ke berkas yang hanya bisa dibaca pemiliknya"
    ),
    "the new key (first line)": "kunci baru (baris pertama)",
    "print the result as JSON on stdout, for scripts": "cetak hasilnya sebagai JSON ke stdout, untuk skrip",
    # the reach report
    "the ISO week, e.g. 2026-W49 (default: this week)": "minggu ISO, mis. 2026-W49 (bawaan: minggu ini)",
    "the HTML report's language (default: the CLI's)": "bahasa laporan HTML (bawaan: bahasa CLI)",
    "the file to write, - for stdout (default: warta-reach-WEEK…)": (
        "berkas yang ditulis, - untuk stdout (bawaan: warta-reach-MINGGU…)"
    ),
    "weeks in the trend, ending with --week": "jumlah minggu dalam tren, berakhir di --week",
    "how many top items": "berapa materi teratas",
    f"the analytics worker's URL (WARTA_ANALYTICS_URL; default {ANALYTICS_URL})": (
        f"URL worker analitik (WARTA_ANALYTICS_URL; bawaan {ANALYTICS_URL})"
    ),
}

# argparse's errors (Python 3.11 wording): their shape, and the same in Indonesian.
_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), indonesian)
    for pattern, indonesian in (
        (r"the following arguments are required: (.+)", r"argumen berikut wajib diisi: \1"),
        (r"unrecognized arguments: (.+)", r"argumen tidak dikenal: \1"),
        (
            r"argument (\S+): invalid choice: (.+) \(choose from (.+)\)",
            r"argumen \1: pilihan \2 tidak dikenal (pilih dari \3)",
        ),
        (r"argument (\S+): invalid (\w+) value: (.+)", r"argumen \1: nilai \2 tidak valid: \3"),
        (r"argument (\S+): expected one argument", r"argumen \1: memerlukan satu nilai"),
        (r"one of the arguments (.+) is required", r"salah satu argumen \1 wajib diisi"),
        (r"argument (\S+): not allowed with argument (\S+)", r"argumen \1: tidak boleh bersama argumen \2"),
    )
)


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and every parser of its subcommands, each once."""
    seen: set[int] = set()
    todo = [parser]
    while todo:
        current_parser = todo.pop()
        if id(current_parser) in seen:
            continue
        seen.add(id(current_parser))
        yield current_parser
        for action in current_parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())


def _help_texts(parser: argparse.ArgumentParser) -> Iterator[tuple[object, str, str]]:
    """(holder, attribute, English text) for every text the help of ``parser`` shows."""
    for one in _parsers(parser):
        if one.description:
            yield one, "description", one.description
        for group in one._action_groups:
            if group.title:
                yield group, "title", group.title
        for action in one._actions:
            if action.help and action.help is not argparse.SUPPRESS:
                yield action, "help", action.help
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if choice.help:
                        yield choice, "help", choice.help


def english_texts(parser: argparse.ArgumentParser) -> set[str]:
    """Every text the help of ``parser`` and its subcommands shows, as built (in English)."""
    return {text for _, _, text in _help_texts(parser)}


def translate(parser: argparse.ArgumentParser, lang: Lang) -> None:
    """Rewrite the help of ``parser`` and its subcommands in ``lang``; English leaves it as built.
    A text shared by several parsers (the common options) is rewritten once."""
    if lang == "en":
        return
    for holder, attribute, text in list(_help_texts(parser)):
        setattr(holder, attribute, HELP.get(text, text))


def argparse_error(message: str, lang: Lang) -> str:
    if lang == "en":
        return message
    for pattern, indonesian in _ERRORS:
        if pattern.fullmatch(message):
            return pattern.sub(indonesian, message)
    return message


class _Formatter(argparse.HelpFormatter):
    def add_usage(
        self, usage: str | None, actions: object, groups: object, prefix: str | None = None
    ) -> None:
        if prefix is None and current() == "id":
            prefix = "penggunaan: "
        super().add_usage(usage, actions, groups, prefix)  # type: ignore[arg-type]


class WartaParser(argparse.ArgumentParser):
    """argparse's parser whose usage line and errors follow the run's language."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        word = "galat" if current() == "id" else "error"
        self.exit(2, f"{self.prog}: {word}: {argparse_error(message, current())}\n")
