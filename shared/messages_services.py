"""The sentences of the console's, the inbox's and the analytics API's own refusals (and the notes
their answers carry), in English and Bahasa Indonesia: the part of the message catalog
(``shared.messages``) that is not about a submission or a channel's rules.

Keys follow the catalog's rule: ``rule`` or ``rule.variant``, the part before the dot being the
stable ``rule`` code a client reads, which never changes with the language.
"""

from __future__ import annotations

from collections.abc import Mapping

# One sentence the console (rule ``type``) and the inbox (rule ``cursor``) both say: one wording to
# keep, two rule codes that clients already read.
_FOREIGN_CURSOR = (
    "cursor must be a next_cursor this endpoint returned",
    "cursor harus berupa next_cursor yang diberikan endpoint ini",
)

SERVICE_MESSAGES: Mapping[str, tuple[str, str]] = {
    # --- who may use the console, the inbox and their routes ------------------------------------
    "role.console": (
        "{person} holds the {role} role; the console is for operators and admins",
        "{person} berperan {role}; konsol hanya untuk operator dan admin",
    ),
    "role.connect": (
        "{person} holds the {role} role; only an admin may connect accounts",
        "{person} berperan {role}; hanya admin yang boleh menghubungkan akun",
    ),
    "role.templates": (
        "{person} is {role}: saved answers are changed by an operator, an approver or an admin",
        "{person} berperan {role}: jawaban tersimpan diubah oleh operator, penyetuju, atau admin",
    ),
    "channel_forbidden.scope": (
        "{person}'s key may not see or act on {what!w} {id}: it concerns channel {channel}",
        "kunci {person} tidak boleh melihat atau bertindak pada {what!w} {id}: itu menyangkut kanal {channel}",
    ),
    "channel_forbidden.every_channel": (
        "{person}'s key may not see or act on {what!w}: it concerns every channel",
        "kunci {person} tidak boleh melihat atau bertindak pada {what!w}: itu menyangkut semua kanal",
    ),
    "channel_forbidden.read": (
        "{person}'s key may not read channel {channel}",
        "kunci {person} tidak boleh membaca kanal {channel}",
    ),
    # --- things that are not there ---------------------------------------------------------------
    "not_found.file": ("no file {name!r}", "berkas {name!r} tidak ada"),
    "not_found.job": ("no job {id!r}", "tugas {id!r} tidak ada"),
    "not_found.dead_letter": ("no dead letter {id!r}", "dead letter {id!r} tidak ada"),
    "not_found.channel": ("no channel {id!r}", "kanal {id!r} tidak ada"),
    "not_found.comment": ("the inbox holds no comment {key}", "kotak masuk tidak memuat komentar {key}"),
    "not_found.template": ("there is no saved answer {name}", "tidak ada jawaban tersimpan {name}"),
    "not_found.complaint": ("there is no complaint {id}", "tidak ada pengaduan {id}"),
    "not_found.figures": ("no figures for {id!r}", "tidak ada angka untuk {id!r}"),
    # --- query parameters and bodies -------------------------------------------------------------
    "required.day": ("day is required, e.g. 2026-11-27", "day wajib diisi, mis. 2026-11-27"),
    "type.day": ("day must be a date like 2026-11-27", "day harus berupa tanggal seperti 2026-11-27"),
    "out_of_range.day": (
        "day must lie between {earliest} and {latest}",
        "day harus berada di antara {earliest} dan {latest}",
    ),
    "range.limit": (
        "limit must be a whole number from 1 to {max}",
        "limit harus bilangan bulat dari 1 sampai {max}",
    ),
    "range.bounds": ("{field} is {low:g}-{high:g}", "{field} harus {low:g}-{high:g}"),
    "type.whole": ("{field} is a whole number", "{field} harus bilangan bulat"),
    "type.number": ("{field} is a number", "{field} harus berupa angka"),
    "type.cursor_endpoint": _FOREIGN_CURSOR,
    "cursor": _FOREIGN_CURSOR,
    "enum.state": ("state must be one of {values}", "state harus salah satu dari {values}"),
    "enum.overdue": ("overdue is true or false", "overdue harus true atau false"),
    "enum.lang": ("lang is en or id", "lang harus en atau id"),
    "malformed_json.not_object": (
        "the body must be a JSON object",
        "isi permintaan harus berupa objek JSON",
    ),
    "payload_too_large.at_most": (
        "{what!w} is at most {limit} bytes",
        "{what!w} paling besar {limit} byte",
    ),
    # --- aiohttp's own answers and the last resort -----------------------------------------------
    "http.not_found": ("Not Found", "Tidak ditemukan"),
    "http.method_not_allowed": ("Method Not Allowed", "Metode tidak diizinkan"),
    "http": ("{reason}", "kesalahan HTTP: {reason}"),
    # --- the console's actions on jobs and dead letters ------------------------------------------
    "not_settled": (
        "job {job_id} is {state}: it is not waiting for a person (operator actions apply only to "
        "failed, unconfirmed and dead jobs)",
        "tugas {job_id} berstatus {state}: tidak sedang menunggu keputusan orang (tindakan operator "
        "hanya berlaku untuk tugas failed, unconfirmed dan dead)",
    ),
    "not_settled.in_flight": (
        "job {job_id} is {state}: a publisher holds it and its outcome is not in yet; wait for it "
        "(operator actions apply only to failed, unconfirmed and dead jobs)",
        "tugas {job_id} berstatus {state}: publisher sedang memegangnya dan hasilnya belum masuk; "
        "tunggulah (tindakan operator hanya berlaku untuk tugas failed, unconfirmed dan dead)",
    ),
    "illegal_action": (
        "job {job_id} is {state}: {action} is not allowed (allowed: {allowed!w}; shared/lifecycle.py)",
        "tugas {job_id} berstatus {state}: {action} tidak diizinkan (yang diizinkan: {allowed!w}; "
        "shared/lifecycle.py)",
    ),
    "bad_request.reason": (
        "a reason is required: the audit trail records why",
        "alasan wajib diisi: jejak audit mencatat alasannya",
    ),
    "bad_request.url": (
        "mark_published needs the post's http(s) URL, e.g. https://example.org/@x/1",
        "mark_published memerlukan URL http(s) unggahan itu, mis. https://example.org/@x/1",
    ),
    "action_in_progress": (
        "{by}'s {action} of job {job_id} (at {at}) is already under way; reload the job and decide "
        "again once the scheduler has applied it",
        "{action} oleh {by} atas tugas {job_id} (pada {at}) sedang berjalan; muat ulang tugas itu dan "
        "putuskan lagi setelah penjadwal menerapkannya",
    ),
    "action_in_progress.decided_first": (
        "{by}'s {action} of job {job_id} (at {at}) came first; yours was recorded but will not be "
        "applied. Reload the job and decide again",
        "{action} oleh {by} atas tugas {job_id} (pada {at}) datang lebih dulu; keputusan Anda tercatat "
        "tetapi tidak akan diterapkan. Muat ulang tugas itu dan putuskan lagi",
    ),
    "not_a_job": (
        "dead letter {id} is an undecodable message from {topic}, not a job: there is nothing to "
        "replay; fix the producer and resend",
        "dead letter {id} adalah pesan dari {topic} yang tidak bisa diurai, bukan tugas: tidak ada yang "
        "bisa diulang; perbaiki pengirimnya lalu kirim ulang",
    ),
    "not_replayable.state_topic": (
        "{topic} holds state, not commands: writing an old record back could replace a newer one; "
        "the view that failed on it reads it again when it restarts",
        "{topic} menyimpan keadaan, bukan perintah: menulis ulang rekaman lama bisa menimpa yang lebih "
        "baru; tampilan yang gagal membacanya akan membacanya lagi saat dimulai ulang",
    ),
    "not_replayable.undecodable": (
        "dead letter {id} is an undecodable message from {topic}: there is nothing to replay; fix "
        "the producer and resend",
        "dead letter {id} adalah pesan dari {topic} yang tidak bisa diurai: tidak ada yang bisa "
        "diulang; perbaiki pengirimnya lalu kirim ulang",
    ),
    "not_replayable.no_bytes": (
        "dead letter {id} does not hold the record's exact bytes (not UTF-8, or larger than the "
        "letter keeps): there is nothing to replay; resend it from its source",
        "dead letter {id} tidak menyimpan byte asli rekaman itu (bukan UTF-8, atau lebih besar dari "
        "yang disimpan): tidak ada yang bisa diulang; kirim ulang dari sumbernya",
    ),
    "note.reconciles_first": (
        "the {platform} publisher looks the post up before sending: found → published with its id; "
        "surely absent → sent; still unknown → it stays unconfirmed, with the reason",
        "publisher {platform} mencari unggahan itu sebelum mengirim: ditemukan → published dengan "
        "id-nya; pasti tidak ada → dikirim; masih tidak pasti → tetap unconfirmed, dengan alasannya",
    ),
    "note.connected": ("Connected {channel}.", "{channel} terhubung."),
    "note.back_to_console": ("Back to the console", "Kembali ke konsol"),
    # --- the broker or a neighbour did not answer ------------------------------------------------
    "unavailable.no_offsets": (
        "no offsets read from the broker yet",
        "offset belum terbaca dari broker",
    ),
    "unavailable.not_done": (
        "the broker did not acknowledge; nothing was done",
        "broker tidak mengonfirmasi; tidak ada yang dilakukan",
    ),
    "unavailable.not_replayed": (
        "the broker did not acknowledge; nothing was replayed",
        "broker tidak mengonfirmasi; tidak ada yang diulang",
    ),
    "unavailable.read_back": (
        "the decision was written, but this console could not read {topic} back within {seconds} s "
        "to tell whether another operator's decision on the job came first; reload the job (the "
        "scheduler applies only the first)",
        "keputusan sudah ditulis, tetapi konsol ini tidak bisa membaca ulang {topic} dalam {seconds} "
        "detik untuk memastikan apakah keputusan operator lain atas tugas itu datang lebih dulu; muat "
        "ulang tugas itu (penjadwal hanya menerapkan yang pertama)",
    ),
    "unavailable.ingest": ("ingest did not answer: {error}", "ingest tidak menjawab: {error}"),
    "broker": (
        "the broker did not acknowledge the change; try again",
        "broker tidak mengonfirmasi perubahan ini; coba lagi",
    ),
    # --- connecting a channel's account (the console) --------------------------------------------
    "unavailable.too_many_pending": (
        "too many connections are waiting for their platform",
        "terlalu banyak penghubungan akun yang menunggu platformnya",
    ),
    "unavailable.connect_not_kept": (
        "the connect could not be kept ({error}); try again",
        "penghubungan akun tidak bisa disimpan ({error}); coba lagi",
    ),
    "unavailable.connect_not_found": (
        "the connect could not be looked up ({error}); try again",
        "penghubungan akun tidak bisa dicari ({error}); coba lagi",
    ),
    "unavailable.credential_not_shared": (
        "the credential of {account} could not be stored on the credentials topic ({error}); try again",
        "kredensial {account} tidak bisa disimpan di topik kredensial ({error}); coba lagi",
    ),
    "unavailable.vault": (
        "the credential vault cannot be opened: {error}",
        "brankas kredensial tidak bisa dibuka: {error}",
    ),
    "unavailable.no_vault_key": (
        "no credentials key configured for the console (WARTA_CREDENTIALS_KEY_FILE)",
        "kunci kredensial belum diatur untuk konsol (WARTA_CREDENTIALS_KEY_FILE)",
    ),
    "paste_credential": (
        "{platform} is connected by pasting its credential: POST /v1/channels/{channel}/credential",
        "{platform} dihubungkan dengan menempelkan kredensialnya: POST /v1/channels/{channel}/credential",
    ),
    "use_login": (
        "{platform} is connected through its login: POST /v1/channels/{channel}/connect",
        "{platform} dihubungkan melalui login-nya: POST /v1/channels/{channel}/connect",
    ),
    "connect_unavailable": ("{detail}", "akun tidak bisa dihubungkan: {detail}"),
    "state": (
        "state does not match a connection this console started",
        "state tidak cocok dengan penghubungan yang dimulai konsol ini",
    ),
    "denied": ("{platform} refused: {error}", "{platform} menolak: {error}"),
    "exchange": (
        "{platform} refused the connection: {detail}",
        "{platform} menolak penghubungan: {detail}",
    ),
    "credential_refused": ("{detail}", "kredensial ditolak: {detail}"),
    "insufficient_permissions": (
        "{reached} lacks {lacking} that publishing needs",
        "{reached} tidak memiliki {lacking} yang diperlukan untuk menerbitkan",
    ),
    # --- the inbox: webhooks, its lifecycle, saved answers, complaints ---------------------------
    "bad_signature.no_secret": (
        "no app secret is configured: deliveries cannot be verified",
        "rahasia aplikasi belum diatur: kiriman tidak bisa diverifikasi",
    ),
    "bad_signature.malformed": (
        "{header} is missing or not sha256=<hex>",
        "{header} tidak ada atau bukan sha256=<hex>",
    ),
    "bad_signature": ("{header} does not match the body", "{header} tidak cocok dengan isi kiriman"),
    "illegal_transition.replying": (
        "a reply to this comment is being posted; act once it is answered",
        "balasan untuk komentar ini sedang dikirim; bertindaklah setelah terjawab",
    ),
    "illegal_transition": (
        "a comment that is {state} cannot be {action}ed",
        "komentar yang berstatus {state} tidak bisa di-{action}",
    ),
    "illegal_transition.not_operator": (
        "{action} is not an operator's action",
        "{action} bukan tindakan operator",
    ),
    "illegal_transition.needs_reason": ("{action} needs a reason", "{action} memerlukan alasan"),
    "illegal_transition.blank_text": (
        "the reply's text holds only spaces or invisible characters: it says nothing",
        "teks balasan hanya berisi spasi atau karakter tak terlihat: tidak mengatakan apa pun",
    ),
    "illegal_transition.needs_assignee": (
        "assign needs an assignee",
        "assign memerlukan penanggung jawab",
    ),
    "illegal_transition.answered": (
        "{by} has already answered this comment; a second answer needs override=true",
        "{by} sudah menjawab komentar ini; jawaban kedua memerlukan override=true",
    ),
    "someone_answering": (
        "{by} is answering this comment (since {since} UTC); a second answer needs override=true",
        "{by} sedang menjawab komentar ini (sejak {since} UTC); jawaban kedua memerlukan override=true",
    ),
    "someone_answering.draft": (
        "{by} is answering this comment (a draft waits for approval); a second answer needs override=true",
        "{by} sedang menjawab komentar ini (drafnya menunggu persetujuan); jawaban kedua memerlukan "
        "override=true",
    ),
    "illegal_transition.draft_text": (
        "a draft reply needs its text",
        "draf balasan memerlukan teksnya",
    ),
    "illegal_transition.no_draft": (
        "there is no draft reply waiting for approval",
        "tidak ada draf balasan yang menunggu persetujuan",
    ),
    "illegal_transition.draft_changed": (
        "{by} replaced the draft since it was read: read it again before approving",
        "{by} mengganti draf sejak dibaca: baca lagi sebelum menyetujui",
    ),
    "illegal_transition.deleted": (
        "this comment is deleted on the platform (or being deleted); it cannot be {action}ed",
        "komentar ini sudah dihapus di platform (atau sedang dihapus); tidak bisa di-{action}",
    ),
    "not_on_platform.delete": (
        "{platform}'s API cannot delete a citizen's comment: hide it instead",
        "API {platform} tidak bisa menghapus komentar warga: sembunyikan saja",
    ),
    "four_eyes.reply_needs_approver": (
        "replies on {channel} need an approver: submit a draft, another person approves it",
        "balasan di {channel} memerlukan penyetuju: kirim draf, orang lain yang menyetujuinya",
    ),
    "four_eyes.not_approver": (
        "{person} does not hold the approver role",
        "{person} tidak berperan sebagai penyetuju",
    ),
    "four_eyes.delete_needs_approver": (
        "{person} cannot delete a citizen's comment: deleting needs the approver role (hide it instead)",
        "{person} tidak bisa menghapus komentar warga: menghapus memerlukan peran penyetuju "
        "(sembunyikan saja)",
    ),
    "four_eyes.own_reply": (
        "{person} wrote this draft and cannot approve it too",
        "{person} menulis draf ini dan tidak boleh juga menyetujuinya",
    ),
    "complaint_state": (
        "a {state} complaint cannot take the action {action}",
        "pengaduan berstatus {state} tidak bisa dikenai tindakan {action}",
    ),
    "complaint_state.exists": (
        "comment {id} is already a complaint",
        "komentar {id} sudah menjadi pengaduan",
    ),
    "template_name": (
        "a template's name is 1-64 lowercase letters, digits, - and _, starting with a letter or digit",
        "nama templat terdiri dari 1-64 huruf kecil, angka, - dan _, diawali huruf atau angka",
    ),
    "unmatched_brace": (
        "the {brace} at character {at} is not part of a placeholder; write {twice} for a {brace} itself",
        "{brace} pada karakter ke-{at} bukan bagian dari penanda; tulis {twice} untuk {brace} itu sendiri",
    ),
    "placeholder_form": (
        "{placeholder} is not a placeholder: a placeholder is a name alone in braces ({known})",
        "{placeholder} bukan penanda: penanda adalah sebuah nama saja di dalam kurung kurawal ({known})",
    ),
    "unknown_placeholder": (
        "{placeholder} is not a placeholder; known: {known}",
        "{placeholder} bukan penanda; yang dikenal: {known}",
    ),
    "lapor_unavailable": (
        "LAPOR! did not take complaint {id}: {error}. It stays recorded (attempt {attempt}); "
        "forwarding it again is safe",
        "LAPOR! tidak menerima pengaduan {id}: {error}. Pengaduan tetap tercatat (percobaan "
        "{attempt}); meneruskannya lagi aman",
    ),
    "lapor_refused": (
        "LAPOR! did not take complaint {id}: {error}. It stays recorded (attempt {attempt}); "
        "forwarding it again is safe",
        "LAPOR! menolak pengaduan {id}: {error}. Pengaduan tetap tercatat (percobaan {attempt}); "
        "meneruskannya lagi aman setelah penyebabnya diperbaiki",
    ),
    # --- the analytics API's queries -------------------------------------------------------------
    "bad_query.by": (
        "by must be one of {allowed}, not {by!r}",
        "by harus salah satu dari {allowed}, bukan {by!r}",
    ),
    "bad_query.window": (
        "window must be one of {allowed} for by={by}, not {window!r}",
        "window harus salah satu dari {allowed} untuk by={by}, bukan {window!r}",
    ),
    "bad_query.period": (
        "period {period!r} does not name a {window} (e.g. 2026-12-04 or 2026-W49)",
        "period {period!r} tidak menyebut satu {window!w} (mis. 2026-12-04 atau 2026-W49)",
    ),
    "bad_query.whole": (
        "{name} must be a whole number, not {raw!r}",
        "{name} harus bilangan bulat, bukan {raw!r}",
    ),
    "bad_query.week_shape": (
        "week must look like 2026-W49, not {week!r}",
        "week harus berbentuk seperti 2026-W49, bukan {week!r}",
    ),
    "bad_query.no_week": ("week {week!r} does not exist", "minggu {week!r} tidak ada"),
    "bad_query.week_years": (
        "week {week!r} is outside the years a report covers ({low} to {high})",
        "minggu {week!r} di luar tahun yang dicakup laporan ({low} sampai {high})",
    ),
    "bad_query.between": (
        "{name} must be between 1 and {high}, not {value}",
        "{name} harus di antara 1 dan {high}, bukan {value}",
    ),
    "bad_query.lang": (
        "lang must be one of {allowed}, not {lang!r}",
        "lang harus salah satu dari {allowed}, bukan {lang!r}",
    ),
}

# Words the sentences above carry as parameters (``{what!w}``): English -> Indonesian.
SERVICE_WORDS: Mapping[str, str] = {
    "the plan of channel": "rencana kanal",
    "job": "tugas",
    "dead letter": "dead letter",
    "the account of channel": "akun kanal",
    "webhook deliveries": "pengiriman webhook",
    "none": "tidak ada",
    "a delivery": "sebuah kiriman",
    "a request body": "isi permintaan",
    "day": "hari",
    "week": "minggu",
}
