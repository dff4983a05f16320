"use strict";
// The inbox page: what /v1/inbox offers, in English and Bahasa Indonesia. Comments are citizens'
// text, hostile by default: every value reaches the page through textContent, never as HTML.

// Loaded after page.js (the page's language, t(), locale(), translate(), callApi()). Every label
// once, with its words in each of the page's languages in LANGUAGES' order: a label cannot exist
// in one language and be forgotten in the other.
const I18N = {
  title: ["Inbox", "Kotak masuk"],
  language: ["Language", "Bahasa"],
  login_title: ["Sign in with your API key", "Masuk dengan kunci API Anda"],
  login_placeholder: ["API key", "Kunci API"],
  login_button: ["Sign in", "Masuk"],
  login_failed: ["This key was refused.", "Kunci ini ditolak."],
  channels: ["Channels", "Kanal"],
  channel: ["Channel", "Kanal"],
  mode: ["Collected by", "Dikumpulkan lewat"],
  collected: ["Collected", "Terkumpul"],
  why: ["Why / last error", "Alasan / galat terakhir"],
  comments: ["Comments", "Komentar"],
  state: ["State", "Status"],
  post: ["Post", "Unggahan"],
  all: ["All", "Semua"],
  apply: ["Apply", "Terapkan"],
  s_new: ["New", "Baru"],
  s_assigned: ["Assigned", "Ditugaskan"],
  s_answered: ["Answered", "Dijawab"],
  s_hidden: ["Hidden", "Disembunyikan"],
  s_replying: ["Reply being posted", "Balasan sedang dikirim"],
  posted: ["posted on the platform", "terkirim ke platform"],
  s_closed: ["Closed", "Ditutup"],
  m_poll: ["polling", "polling"],
  m_poll_and_webhook: ["webhook and polling", "webhook dan polling"],
  m_webhook: ["webhook", "webhook"],
  m_updates: ["bot updates", "pembaruan bot"],
  m_unreadable: ["not collected", "tidak dikumpulkan"],
  assign: ["Assign", "Tugaskan"],
  reply: ["Reply", "Balas"],
  approve: ["Approve reply", "Setujui balasan"],
  hide: ["Hide", "Sembunyikan"],
  close: ["Close", "Tutup"],
  reopen: ["Reopen", "Buka kembali"],
  delete: ["Delete on the platform", "Hapus di platform"],
  s_deleted: ["Deleted", "Dihapus"],
  ask_assignee: ["Assign to whom?", "Tugaskan kepada siapa?"],
  ask_reply: ["Your reply:", "Balasan Anda:"],
  ask_reason: ["Why?", "Alasannya?"],
  ask_override: ["This comment was already answered. Send a second answer anyway?", "Komentar ini sudah dijawab. Tetap kirim jawaban kedua?"],
  assigned_to: ["assigned to", "ditugaskan kepada"],
  draft_waiting: ["draft waiting for an approver", "draf menunggu persetujuan"],
  replied_by: ["reply by", "dibalas oleh"],
  approved_by: ["approved by", "disetujui oleh"],
  empty: ["No comments match.", "Tidak ada komentar yang cocok."],
  saved_answer: ["Reply with a saved answer…", "Balas dengan jawaban tersimpan…"],
  answering: ["being answered by", "sedang dijawab oleh"],
  ask_take_over: ["Take over the answer anyway?", "Tetap ambil alih jawabannya?"],
  limits: ["Cannot do / limits", "Tidak bisa / batasan"],
  terms: ["Most frequent terms, last 6 hours", "Kata terbanyak, 6 jam terakhir"],
  no_terms: ["No comments in these hours.", "Tidak ada komentar dalam rentang ini."],
  a_read: ["read comments", "membaca komentar"],
  a_reply: ["reply", "membalas"],
  a_hide: ["hide", "menyembunyikan"],
  a_delete: ["delete", "menghapus"],
  cannot: ["cannot", "tidak bisa"],
  c_needs_access: ["needs more access", "perlu akses lebih"],
  c_not_built: ["not built in Warta yet", "belum dibuat di Warta"],
  c_no_api: ["no platform API", "tidak ada API platform"],
  h_sending_hidden: ["being hidden on the platform", "sedang disembunyikan di platform"],
  h_hidden: ["hidden on the platform too", "juga disembunyikan di platform"],
  h_failed_hidden: ["not hidden on the platform", "tidak tersembunyi di platform"],
  h_local: ["hidden in the inbox only", "hanya disembunyikan di kotak masuk"],
  h_sending_visible: ["being shown again on the platform", "sedang ditampilkan lagi di platform"],
  h_visible: ["shown again on the platform", "tampil lagi di platform"],
  h_failed_visible: ["still hidden on the platform", "masih tersembunyi di platform"],
  h_sending_deleted: ["being deleted on the platform", "sedang dihapus di platform"],
  h_deleted: ["deleted on the platform", "sudah dihapus di platform"],
  h_failed_deleted: ["not deleted on the platform", "tidak terhapus di platform"],
  window: ["replies only within {h} h of the citizen's last message, then templates", "balasan hanya dalam {h} jam sejak pesan terakhir warga, sesudahnya hanya templat"],
  quota: ["quota — a reply costs {reply} of {daily} units a day, a hide {hide}, a read {read}", "kuota — satu balasan memakai {reply} dari {daily} unit per hari, satu penyembunyian {hide}, satu pembacaan {read}"],
  // The complaint channel (complaints.js).
  complaints: ["Complaints (SP4N-LAPOR!)", "Pengaduan (SP4N-LAPOR!)"],
  complaint: ["Record as complaint", "Catat sebagai pengaduan"],
  c_due: ["due", "tenggat"],
  c_overdue: ["overdue", "terlambat"],
  c_recorded: ["Recorded", "Tercatat"],
  c_forwarded: ["Forwarded to LAPOR!", "Diteruskan ke LAPOR!"],
  c_answered: ["Answered", "Dijawab"],
  c_closed: ["Closed", "Ditutup"],
  c_forward: ["Forward to LAPOR!", "Teruskan ke LAPOR!"],
  c_answer: ["Mark answered", "Tandai dijawab"],
  c_close: ["Close", "Tutup"],
  c_none: ["No complaints.", "Tidak ada pengaduan."],
  c_tracking: ["LAPOR! tracking id", "Nomor pelacakan LAPOR!"],
  c_only_overdue: ["Only overdue", "Hanya yang terlambat"],
};

const state = { key: sessionStorage.getItem("warta.inbox.key"), templates: [], abilities: {} };

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function api(method, path, body) {
  return callApi(state.key, method, path, body);
}

// What a channel cannot do, from the API's ``abilities``: translated codes, English details as a tooltip.
function limitsOf(abilities) {
  if (!abilities) return el("td");
  const parts = [];
  const details = [];
  for (const name of ["read", "reply", "hide", "delete"]) {
    const a = abilities[name];
    if (!a.can) parts.push(t("cannot") + " " + t("a_" + name) + " (" + t("c_" + a.code) + ")");
    if (a.window_hours) parts.push(t("window").replace("{h}", a.window_hours));
    if (!a.can || a.code !== "ok") details.push(a.detail + (a.needs ? " — " + a.needs : ""));
  }
  const q = abilities.quota;
  const n = (value) => Number(value).toLocaleString(locale());
  if (q) parts.push(t("quota").replace("{reply}", n(q.reply)).replace("{daily}", n(q.daily)).replace("{read}", n(q.read)).replace("{hide}", n(q.hide)));
  const cell = el("td", parts.join("; "));
  cell.title = details.join("\n");
  return cell;
}

async function loadTerms() {
  const query = new URLSearchParams({ hours: "6" });
  if ($("#f-channel").value) query.set("channel", $("#f-channel").value);
  const data = await api("GET", "/v1/inbox/terms?" + query.toString());
  const list = $("#terms");
  list.replaceChildren(...data.terms.map((term) => el("li", term.term + " (" + term.count + ")")));
  if (!data.terms.length) list.append(el("li", t("no_terms"), "meta"));
}

async function loadChannels() {
  const data = await api("GET", "/v1/inbox/channels");
  const body = $("#channels");
  body.replaceChildren();
  const select = $("#f-channel");
  const chosen = select.value;
  select.replaceChildren(el("option", t("all")));
  select.firstChild.value = "";
  for (const ch of data.channels) {
    state.abilities[ch.channel] = ch.abilities;
    const row = el("tr");
    row.append(el("td", ch.channel), el("td", t("m_" + ch.mode), ch.mode === "unreadable" ? "unreadable" : ""),
      el("td", ch.collected), el("td", ch.last_error || (ch.mode === "unreadable" ? ch.reason : "")),
      limitsOf(ch.abilities));
    body.append(row);
    const option = el("option", ch.channel);
    option.value = ch.channel;
    select.append(option);
  }
  select.value = chosen;
}

function entryNode(entry) {
  const item = el("li");
  const c = entry.comment;
  const meta = el("div", null, "meta");
  meta.append(el("span", t("s_" + entry.state), "state"), el("span", " · " + c.channel + " · " + (c.author.name || c.author.id) +
    " · " + new Date(c.created_at).toLocaleString(locale())));
  if (entry.assignee) meta.append(el("span", " · " + t("assigned_to") + " " + entry.assignee));
  // Someone has the reply box open: everyone else sees who, and answering too needs a take-over.
  if (entry.answering) meta.append(el("span", " · " + t("answering") + " " + entry.answering.by, "answering"));
  item.append(meta, el("p", c.text, "text"));
  if (entry.reply) {
    const who = entry.reply.approved_by
      ? t("replied_by") + " " + entry.reply.drafted_by + ", " + t("approved_by") + " " + entry.reply.approved_by
      : t("draft_waiting") + " (" + entry.reply.drafted_by + ")";
    const sent = entry.reply.posted_id ? " · " + t("posted") : "";
    item.append(el("div", entry.reply.text + "\n— " + who + sent, "reply"));
    // Why the last reply did not reach the platform (refused, or unconfirmed: check it first).
    if (entry.action === "reply_failed" || entry.action === "reply_unconfirmed") item.append(el("div", entry.reason, "error"));
  }
  // A hidden (or deleted) comment is not always so where citizens look: say which, and why not.
  const hide = entry.platform_hide;
  if (hide) {
    const want = hide.want || "hidden";
    const said = hide.status === "sending" || hide.status === "failed" ? "h_" + hide.status + "_" + want : "h_" + hide.status;
    const why = hide.status === "failed" || hide.status === "local" ? " — " + hide.detail : "";
    item.append(el("div", t(said) + why, hide.status === "failed" ? "error" : "hide"));
  }
  const actions = el("div", null, "actions");
  // While a reply is being posted nobody acts on the comment: the platform's answer moves it on.
  const open = !["closed", "hidden", "replying", "deleted"].includes(entry.state);
  const button = (label, handler) => {
    const b = el("button", t(label));
    b.type = "button";
    b.addEventListener("click", () => handler().then(refresh, (e) => { $("#error").textContent = e.message; }));
    actions.append(b);
  };
  const act = (verb, body) => api("POST", "/v1/inbox/" + entry.key + "/" + verb, body);
  if (open && entry.state !== "answered") button("assign", () => {
    const who = prompt(t("ask_assignee"));
    return who ? act("assign", { assignee: who }) : Promise.resolve();
  });
  const replyWith = async (drafted) => {
    // Mark the comment as being answered by this person while the reply box is open.
    let takeOver = false;
    try {
      await act("answering", {});
    } catch (e) {
      if (e.status !== 409 || !confirm(e.message + "\n" + t("ask_take_over"))) throw e;
      takeOver = true;
      await act("answering", { override: true });
    }
    const text = prompt(t("ask_reply"), drafted || "");
    if (!text) return api("DELETE", "/v1/inbox/" + entry.key + "/answering");
    const override = entry.state === "answered" ? confirm(t("ask_override")) : takeOver;
    if (entry.state === "answered" && !override) return api("DELETE", "/v1/inbox/" + entry.key + "/answering");
    return act("reply", { text, override });
  };
  if (open) button("reply", () => replyWith(""));
  if (open && state.templates.length) actions.append(savedAnswers(entry, replyWith));
  if (open && entry.reply && !entry.reply.approved_by) button("approve", () => act("approve", { override: entry.state === "answered", drafted_at: entry.reply.drafted_at }));
  // Delete only where the channel's platform deletes a citizen's comment (the limits say where not);
  // a deleted comment is final unless the platform refused the delete.
  const canDelete = Boolean((state.abilities[c.channel] || {}).delete?.can);
  const retry = entry.state !== "deleted" || (hide && hide.status === "failed");
  const verbs = open ? ["hide", "close"] : entry.state === "replying" || !retry ? [] : ["reopen"];
  if (canDelete && entry.state !== "replying" && retry) verbs.push("delete");
  for (const verb of verbs) {
    button(verb, () => {
      const reason = prompt(t("ask_reason"));
      return reason ? act(verb, { reason }) : Promise.resolve();
    });
  }
  if (typeof complaintButton === "function") complaintButton(entry, actions);
  item.append(actions);
  return item;
}

// A saved answer is filled in by the inbox for this comment, in the page's language, and put in
// the reply box for the person to read and change before sending.
function savedAnswers(entry, replyWith) {
  const pick = el("select");
  pick.append(el("option", t("saved_answer")));
  pick.firstChild.value = "";
  for (const template of state.templates) {
    const option = el("option", template.name);
    option.value = template.name;
    pick.append(option);
  }
  pick.addEventListener("change", () => {
    const name = pick.value;
    pick.value = "";
    if (!name) return;
    const query = new URLSearchParams({ comment: entry.key, lang: reading.lang });
    api("GET", "/v1/inbox/templates/" + encodeURIComponent(name) + "?" + query.toString())
      .then((filled) => replyWith(filled.rendered))
      .then(refresh, (e) => { $("#error").textContent = e.message; });
  });
  return pick;
}

async function loadTemplates() {
  // Saved answers are a help: without them (an older inbox, a refusal) the page still works.
  state.templates = await api("GET", "/v1/inbox/templates").then((data) => data.templates, () => []);
}

async function loadEntries() {
  const query = new URLSearchParams();
  for (const [name, id] of [["channel", "#f-channel"], ["state", "#f-state"], ["post", "#f-post"]]) {
    if ($(id).value) query.set(name, $(id).value);
  }
  const data = await api("GET", "/v1/inbox?" + query.toString());
  const list = $("#entries");
  list.replaceChildren(...data.items.map(entryNode));
  if (!data.items.length) list.append(el("li", t("empty"), "meta"));
  // A reply being posted settles within seconds: look again soon rather than at the next tick.
  if (data.items.some((entry) => entry.state === "replying")) setTimeout(refresh, 1000);
}

async function refresh() {
  $("#error").textContent = "";
  try {
    await loadChannels();
    await loadTemplates();
    await loadTerms();
    await loadEntries();
    if (typeof loadComplaints === "function") await loadComplaints();
  } catch (error) {
    if (error.status === 401) return signOut();
    $("#error").textContent = error.message;
  }
}

function signOut() {
  sessionStorage.removeItem("warta.inbox.key");
  state.key = null;
  $("#app").hidden = true;
  $("#login").hidden = false;
}

async function signIn(key) {
  state.key = key;
  try {
    await api("GET", "/v1/inbox/channels");
  } catch (error) {
    $("#login-error").textContent = t("login_failed");
    return;
  }
  sessionStorage.setItem("warta.inbox.key", key);
  $("#login").hidden = true;
  $("#app").hidden = false;
  await refresh();
}

$("#lang").addEventListener("change", () => {
  chooseLanguage($("#lang").value);
  if (state.key) refresh();
});
$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("#login-key").value.trim());
});
$("#filters").addEventListener("submit", (event) => {
  event.preventDefault();
  refresh();
});
translate();
if (state.key) signIn(state.key);
setInterval(() => { if (state.key) refresh(); }, 15000);
