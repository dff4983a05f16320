"use strict";
// The inbox page: what /v1/inbox offers, in English and Bahasa Indonesia. Comments are citizens'
// text, hostile by default: every value reaches the page through textContent, never as HTML.

const I18N = {
  en: {
    title: "Inbox", language: "Language", login_title: "Sign in with your API key",
    login_placeholder: "API key", login_button: "Sign in", login_failed: "This key was refused.",
    channels: "Channels", channel: "Channel", mode: "Collected by", collected: "Collected",
    why: "Why / last error", comments: "Comments", state: "State", post: "Post", all: "All",
    apply: "Apply", s_new: "New", s_assigned: "Assigned", s_answered: "Answered", s_hidden: "Hidden",
    s_replying: "Reply being posted", posted: "posted on the platform",
    s_closed: "Closed", m_poll: "polling", m_poll_and_webhook: "webhook and polling",
    m_webhook: "webhook", m_updates: "bot updates", m_unreadable: "not collected", assign: "Assign", reply: "Reply",
    approve: "Approve reply", hide: "Hide", close: "Close", reopen: "Reopen",
    delete: "Delete on the platform", s_deleted: "Deleted",
    ask_assignee: "Assign to whom?", ask_reply: "Your reply:", ask_reason: "Why?",
    ask_override: "This comment was already answered. Send a second answer anyway?",
    assigned_to: "assigned to", draft_waiting: "draft waiting for an approver",
    replied_by: "reply by", approved_by: "approved by", empty: "No comments match.",
    saved_answer: "Reply with a saved answer…", answering: "being answered by",
    ask_take_over: "Take over the answer anyway?",
    limits: "Cannot do / limits", terms: "Most frequent terms, last 6 hours", no_terms: "No comments in these hours.",
    a_read: "read comments", a_reply: "reply", a_hide: "hide", a_delete: "delete", cannot: "cannot",
    c_needs_access: "needs more access", c_not_built: "not built in Warta yet", c_no_api: "no platform API",
    h_sending_hidden: "being hidden on the platform", h_hidden: "hidden on the platform too",
    h_failed_hidden: "not hidden on the platform", h_local: "hidden in the inbox only",
    h_sending_visible: "being shown again on the platform", h_visible: "shown again on the platform",
    h_failed_visible: "still hidden on the platform",
    h_sending_deleted: "being deleted on the platform", h_deleted: "deleted on the platform",
    h_failed_deleted: "not deleted on the platform",
    window: "replies only within {h} h of the citizen's last message, then templates",
    quota: "quota — a reply costs {reply} of {daily} units a day, a hide {hide}, a read {read}",
  },
  id: {
    title: "Kotak masuk", language: "Bahasa", login_title: "Masuk dengan kunci API Anda",
    login_placeholder: "Kunci API", login_button: "Masuk", login_failed: "Kunci ini ditolak.",
    channels: "Kanal", channel: "Kanal", mode: "Dikumpulkan lewat", collected: "Terkumpul",
    why: "Alasan / galat terakhir", comments: "Komentar", state: "Status", post: "Unggahan",
    all: "Semua", apply: "Terapkan", s_new: "Baru", s_assigned: "Ditugaskan", s_answered: "Dijawab",
    s_replying: "Balasan sedang dikirim", posted: "terkirim ke platform", s_hidden: "Disembunyikan", s_closed: "Ditutup", m_poll: "polling",
    m_poll_and_webhook: "webhook dan polling", m_webhook: "webhook", m_updates: "pembaruan bot", m_unreadable: "tidak dikumpulkan",
    assign: "Tugaskan", reply: "Balas", approve: "Setujui balasan", hide: "Sembunyikan",
    delete: "Hapus di platform", s_deleted: "Dihapus",
    close: "Tutup", reopen: "Buka kembali", ask_assignee: "Tugaskan kepada siapa?",
    ask_reply: "Balasan Anda:", ask_reason: "Alasannya?",
    ask_override: "Komentar ini sudah dijawab. Tetap kirim jawaban kedua?",
    assigned_to: "ditugaskan kepada", draft_waiting: "draf menunggu persetujuan",
    replied_by: "dibalas oleh", approved_by: "disetujui oleh", empty: "Tidak ada komentar yang cocok.",
    saved_answer: "Balas dengan jawaban tersimpan…", answering: "sedang dijawab oleh",
    ask_take_over: "Tetap ambil alih jawabannya?",
    limits: "Tidak bisa / batasan", terms: "Kata terbanyak, 6 jam terakhir", no_terms: "Tidak ada komentar dalam rentang ini.",
    a_read: "membaca komentar", a_reply: "membalas", a_hide: "menyembunyikan", a_delete: "menghapus",
    cannot: "tidak bisa", c_needs_access: "perlu akses lebih", c_not_built: "belum dibuat di Warta",
    c_no_api: "tidak ada API platform",
    h_local: "hanya disembunyikan di kotak masuk",
    h_sending_hidden: "sedang disembunyikan di platform", h_hidden: "juga disembunyikan di platform", h_failed_hidden: "tidak tersembunyi di platform",
    h_sending_visible: "sedang ditampilkan lagi di platform", h_visible: "tampil lagi di platform", h_failed_visible: "masih tersembunyi di platform",
    h_sending_deleted: "sedang dihapus di platform", h_deleted: "sudah dihapus di platform", h_failed_deleted: "tidak terhapus di platform",
    window: "balasan hanya dalam {h} jam sejak pesan terakhir warga, sesudahnya hanya templat",
    quota: "kuota — satu balasan memakai {reply} dari {daily} unit per hari, satu penyembunyian {hide}, satu pembacaan {read}",
  },
};

const state = { lang: localStorage.getItem("warta.lang") || "en", key: sessionStorage.getItem("warta.inbox.key"), templates: [], abilities: {} };
const $ = (selector) => document.querySelector(selector);

function t(key) {
  return (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key;
}

function translate() {
  document.documentElement.lang = state.lang;
  $("#lang").value = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function api(method, path, body) {
  // Refusals come back in the page's language (the API reads Accept-Language), as on the dashboard.
  const options = { method, headers: { Authorization: "Bearer " + state.key, "Accept-Language": state.lang } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const answer = await fetch(path, options);
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const message = (data.errors && data.errors[0] && data.errors[0].message) || answer.statusText;
    const error = new Error(message);
    error.status = answer.status;
    throw error;
  }
  return data;
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
  const n = (value) => Number(value).toLocaleString(state.lang === "id" ? "id-ID" : "en-GB");
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
    " · " + new Date(c.created_at).toLocaleString(state.lang === "id" ? "id-ID" : "en-GB")));
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
  const open = !["closed", "hidden", "replying"].includes(entry.state);
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
  if (open && entry.reply && !entry.reply.approved_by) button("approve", () => act("approve", { override: entry.state === "answered" }));
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
    const query = new URLSearchParams({ comment: entry.key, lang: state.lang });
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
  state.lang = $("#lang").value;
  localStorage.setItem("warta.lang", state.lang);
  translate();
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
