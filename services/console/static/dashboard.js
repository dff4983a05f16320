// Warta operator console. Plain JS, no libraries: the console serves everything itself.
// Every API call carries the operator's key (kept in sessionStorage, so it dies with the tab).
"use strict";

// Loaded after page.js (the page's language, t(), translate(), callApi()). Every label once, with
// its words in each of the page's languages in LANGUAGES' order: a label cannot exist in one
// language and be forgotten in the other.
const I18N = {
  title: ["Operator console", "Konsol operator"],
  language: ["Language", "Bahasa"],
  logout: ["Sign out", "Keluar"],
  login_title: ["Sign in with an operator key", "Masuk dengan kunci operator"],
  login_placeholder: ["API key", "Kunci API"],
  login_button: ["Sign in", "Masuk"],
  login_hint: ["The key stays in this tab only (sessionStorage).", "Kunci hanya disimpan di tab ini (sessionStorage)."],
  login_refused: ["This key was refused: {msg}", "Kunci ini ditolak: {msg}"],
  throughput: ["Throughput per topic (messages/s)", "Arus pesan per topik (pesan/detik)"],
  lag: ["Consumer lag per topic (messages)", "Ketertinggalan konsumen per topik (pesan)"],
  health: ["Platforms", "Platform"],
  platform: ["Platform", "Platform"],
  state: ["State", "Status"],
  published: ["Published", "Terbit"],
  failed: ["Failed", "Gagal"],
  last_error: ["Last error", "Galat terakhir"],
  pause_title: ["Pause and resume", "Jeda dan lanjutkan"],
  reason: ["Reason", "Alasan"],
  pause: ["Pause", "Jeda"],
  resume: ["Resume", "Lanjutkan"],
  accounts: ["Accounts", "Akun"],
  connect: ["Connect", "Hubungkan"],
  secret: ["token or password", "token atau kata sandi"],
  username: ["user (WordPress)", "pengguna (WordPress)"],
  save: ["Save", "Simpan"],
  connected_as: ["{channel} connected as {reached}.", "{channel} terhubung sebagai {reached}."],
  signing_secret: ["{channel}'s signing secret (shown once; give it to the receiver): {secret}", "Rahasia penandatanganan {channel} (ditampilkan sekali; berikan ke penerima): {secret}"],
  all_channels: ["All channels", "Semua kanal"],
  reason_needed: ["Give a reason: it goes into the audit trail.", "Tuliskan alasan: alasan dicatat di jejak audit."],
  paused_by: ["{target} paused by {by}: {reason}", "{target} dijeda oleh {by}: {reason}"],
  not_paused: ["No channel is paused.", "Tidak ada kanal yang dijeda."],
  reauth: ["{channel} ({platform}) needs re-connecting since {since}: {reason}. Its jobs wait; run {command}.", "{channel} ({platform}) perlu dihubungkan ulang sejak {since}: {reason}. Tugasnya menunggu; jalankan {command}."],
  done_pause: ["Pause accepted for {channels}.", "Jeda diterima untuk {channels}."],
  done_resume: ["Resume accepted for {channels}.", "Lanjutkan diterima untuk {channels}."],
  attention: ["Needs attention: failed and unconfirmed posts", "Perlu tindakan: unggahan gagal dan belum terkonfirmasi"],
  job: ["Job", "Tugas"],
  text: ["Text", "Teks"],
  actions: ["Actions", "Tindakan"],
  nothing: ["Nothing needs a person right now.", "Saat ini tidak ada yang perlu ditangani."],
  retry: ["Retry", "Coba lagi"],
  mark_published: ["Mark as published", "Tandai sudah terbit"],
  discard: ["Discard", "Buang"],
  post_url: ["post URL", "URL unggahan"],
  action_done: ["{action} accepted for {job}.", "{action} diterima untuk {job}."],
  no_actions: ["final: no action possible", "final: tidak ada tindakan"],
  plan: ["Plan", "Rencana"],
  channel: ["Channel", "Kanal"],
  day: ["Day", "Tanggal"],
  timezone: ["times in {tz}", "waktu dalam {tz}"],
  no_jobs: ["Nothing planned on this day.", "Tidak ada rencana pada hari ini."],
  expected: ["expected engagement {value}", "perkiraan interaksi {value}"],
  runner_up: ["runner-up {time}", "alternatif {time}"],
  bound_by: ["bound by {constraint}", "dibatasi oleh {constraint}"],
  audit: ["Audit trail", "Jejak audit"],
  when: ["When", "Waktu"],
  who: ["Who", "Siapa"],
  action: ["Action", "Tindakan"],
  target: ["Target", "Sasaran"],
  webhooks: ["Webhook deliveries", "Pengiriman webhook"],
  subscriber: ["Subscriber", "Pelanggan"],
  event: ["Event", "Peristiwa"],
  attempts: ["Attempts", "Percobaan"],
  updated: ["Updated {time}", "Diperbarui {time}"],
  summary: ["{dead} dead letters · jobs: {states}", "{dead} surat mati · tugas: {states}"],
  h_ok: ["OK", "Baik"],
  h_throttled: ["Throttled", "Dibatasi"],
  h_needs_reauth: ["Needs re-auth", "Perlu autentikasi ulang"],
  h_failing: ["Failing", "Bermasalah"],
  h_unknown: ["No data yet", "Belum ada data"],
  signed_in: ["{person} ({role})", "{person} ({role})"],
  error: ["Error: {msg}", "Galat: {msg}"],
  all: ["all", "semua"],
};

const COLORS = ["#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563",
  "#65a30d", "#9333ea", "#0d9488", "#ea580c"];
const state = { channels: [], timer: null };

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined) el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function badge(value, label) { return h("span", { class: "badge " + value }, label || value); }

function fmtTime(iso, tz) {
  if (!iso) return "—";
  const opts = { dateStyle: "short", timeStyle: "medium" };
  if (tz) opts.timeZone = tz;
  return new Date(iso).toLocaleString(locale(), opts);
}

// ---- API ------------------------------------------------------------------------------------
function key() { return sessionStorage.getItem("warta.key"); }

// A GET, or a POST where options say `json` (its body) or `method`.
function api(path, options) {
  const opts = options || {};
  return callApi(key(), opts.method || (opts.json === undefined ? "GET" : "POST"), path, opts.json);
}

// ---- charts ---------------------------------------------------------------------------------
function drawChart(svg, legend, times, seriesByTopic, opts) {
  const W = 600, H = 220, L = 44, R = 8, T = 10, B = 22;
  const names = Object.keys(seriesByTopic).filter((n) => seriesByTopic[n].some((v) => v > 0));
  let max = opts.minMax || 1;
  names.forEach((n) => seriesByTopic[n].forEach((v) => { if (v > max) max = v; }));
  const n = times.length;
  const x = (i) => L + (n <= 1 ? 0 : (i * (W - L - R)) / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.append(el);
    return el;
  };
  for (let g = 0; g <= 4; g++) {
    const v = (max * g) / 4;
    add("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e5e9ee" });
    add("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end" }, opts.format(v));
  }
  if (n > 0) {
    add("text", { x: L, y: H - 6 }, fmtTime(times[0]).split(" ").pop());
    add("text", { x: W - R, y: H - 6, "text-anchor": "end" }, fmtTime(times[n - 1]).split(" ").pop());
  }
  legend.replaceChildren();
  names.forEach((name, k) => {
    const color = COLORS[k % COLORS.length];
    const pts = seriesByTopic[name].map((v, i) => x(i).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
    add("polyline", { points: pts, fill: "none", stroke: color, "stroke-width": 2, "data-topic": name });
    // Through the CSSOM, not a style attribute: the console's CSP forbids inline styles.
    const swatch = h("i", {});
    swatch.style.background = color;
    legend.append(h("span", {}, swatch, name));
  });
  svg.dataset.samples = String(n);
  svg.dataset.lines = String(names.length);
}

function rates(times, totals) {
  return totals.map((v, i) => {
    if (i === 0) return 0;
    const dt = (new Date(times[i]) - new Date(times[i - 1])) / 1000;
    return dt > 0 ? Math.max(0, (v - totals[i - 1]) / dt) : 0;
  });
}

function renderCharts(series) {
  const rateSeries = {};
  for (const [topic, totals] of Object.entries(series.messages)) rateSeries[topic] = rates(series.at, totals);
  const tp = $("#chart-throughput");
  drawChart(tp, $("#legend-throughput"), series.at, rateSeries, { format: (v) => v.toFixed(v < 10 ? 1 : 0) });
  let total = 0;
  for (const totals of Object.values(series.messages)) total += totals.length ? totals[totals.length - 1] : 0;
  tp.dataset.total = String(total);
  const lg = $("#chart-lag");
  drawChart(lg, $("#legend-lag"), series.at, series.lag, { format: (v) => String(Math.round(v)), minMax: 4 });
  let lagNow = 0;
  for (const values of Object.values(series.lag)) lagNow += values.length ? values[values.length - 1] : 0;
  lg.dataset.total = String(lagNow);
}

// ---- panels ---------------------------------------------------------------------------------
function renderHealth(overview) {
  const body = $("#health tbody");
  body.replaceChildren(...overview.platforms.map((p) => h("tr", { "data-platform": p.platform },
    h("td", {}, p.platform),
    h("td", {}, badge(p.health, t("h_" + p.health))),
    h("td", {}, p.published), h("td", {}, p.failed),
    h("td", {}, p.last_error ? `${p.last_error.code}: ${p.last_error.message} (${fmtTime(p.last_error_at)})` : "—"))));
  const states = Object.entries(overview.jobs_by_state).map(([s, n]) => `${s} ${n}`).join(", ") || "—";
  $("#summary").textContent = t("summary", { dead: overview.dead_letters, states });
}

function renderReauth(overview) {
  const parked = overview.needs_reauth || [];
  $("#reauth-banner").hidden = !parked.length;
  $("#reauth-banner ul").replaceChildren(...parked.map((c) => h("li", { "data-reauth": c.channel },
    t("reauth", { channel: c.channel, platform: c.platform, since: fmtTime(c.since), reason: c.reason, command: c.reconnect }))));
}

function renderPauses(overview) {
  state.channels = overview.channels;
  const box = $("#pause-channels");
  if (!box.childElementCount) {
    box.append(h("label", {}, h("input", { type: "checkbox", value: "*", id: "pause-all" }), h("span", { "data-i18n": "all_channels" }, t("all_channels"))));
    overview.channels.forEach((c) => box.append(h("label", {},
      h("input", { type: "checkbox", value: c.channel, class: "pause-channel" }), c.channel)));
    const select = $("#plan-channel");
    overview.channels.forEach((c) => select.append(h("option", { value: c.channel }, c.channel)));
  }
  const paused = overview.channels.filter((c) => c.paused);
  $("#pause-state").replaceChildren(...(paused.length ? paused.map((c) => h("li", { "data-paused": c.channel },
    badge("paused", t("pause")), " ", t("paused_by", { target: c.channel, by: c.paused.by, reason: c.paused.reason })))
    : [h("li", { class: "hint" }, t("not_paused"))]));
}

// ---- connecting accounts (admin keys; the API refuses others) ---------------------------------
// Platforms whose credential is pasted; the webhook's secret is generated; the rest log in.
const PASTED = ["telegram", "bluesky", "wordpress", "whatsapp"];

function renderAccounts(overview) {
  const ids = overview.channels.map((c) => c.channel).join(",");
  if (state.accountIds === ids) return;  // rebuilt only when channels change: a typed token stays
  state.accountIds = ids;
  $("#accounts tbody").replaceChildren(...overview.channels.map((c) => h("tr", { "data-account": c.channel },
    h("td", {}, c.channel), h("td", {}, c.platform), h("td", {}, accountControls(c)))));
}

function accountControls(c) {
  if (!PASTED.includes(c.platform)) {
    return h("button", { type: "button", class: "connect", "data-i18n": "connect", onclick: () => connect(c) }, t("connect"));
  }
  const secret = h("input", { type: "password", autocomplete: "off", "data-i18n-placeholder": "secret", placeholder: t("secret") });
  const user = c.platform === "wordpress"
    ? h("input", { type: "text", "data-i18n-placeholder": "username", placeholder: t("username") }) : null;
  const save = async () => {
    try {
      const body = { secret: secret.value };
      if (user) body.username = user.value;
      const answer = await api(`/v1/channels/${encodeURIComponent(c.channel)}/credential`, { json: body });
      $("#connect-result").textContent = t("connected_as", { channel: c.channel, reached: answer.reached });
    } catch (err) {
      $("#connect-result").textContent = t("error", { msg: err.message });
    }
    secret.value = "";  // never kept on the page
  };
  return h("span", { class: "row" }, user, secret,
    h("button", { type: "button", class: "connect", "data-i18n": "connect", onclick: save }, t("connect")));
}

async function connect(c) {
  try {
    const answer = await api(`/v1/channels/${encodeURIComponent(c.channel)}/connect`, { method: "POST" });
    if (answer.authorize_url) { window.location.assign(answer.authorize_url); return; }
    $("#connect-result").textContent = t("signing_secret", { channel: c.channel, secret: answer.signing_secret });
  } catch (err) {
    $("#connect-result").textContent = t("error", { msg: err.message });
  }
}

async function pauseOrResume(action) {
  const reason = $("#pause-reason").value.trim();
  const out = $("#pause-result");
  if (!reason) { out.textContent = t("reason_needed"); out.className = "error"; return; }
  const all = $("#pause-all").checked;
  const chosen = [...document.querySelectorAll(".pause-channel:checked")].map((el) => el.value);
  const body = { reason };
  if (!all && chosen.length) body.channels = chosen;
  try {
    const answer = await api("/v1/" + action, { json: body });
    const channels = answer.channels === "all" ? t("all_channels") : answer.channels.join(", ");
    out.textContent = t("done_" + action, { channels });
    out.className = "";
    out.dataset.done = action;
    refresh();
  } catch (err) {
    out.textContent = t("error", { msg: err.message });
    out.className = "error";
  }
}

function renderProblems(jobs) {
  const tbody = $("#problems tbody");
  // Redrawn every refresh: keep what the operator is typing, and don't redraw under their cursor.
  if (tbody.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
  const typed = {};
  tbody.querySelectorAll("tr[data-job]").forEach((tr) => {
    typed[tr.dataset.job] = { reason: tr.querySelector(".action-reason")?.value, url: tr.querySelector(".action-url")?.value };
  });
  $("#problems-empty").hidden = jobs.length > 0;
  tbody.replaceChildren(...jobs.map((j) => {
    const kept = typed[j.job_id] || {};
    const reason = h("input", { type: "text", placeholder: t("reason"), class: "action-reason" });
    const url = h("input", { type: "url", placeholder: t("post_url"), class: "action-url" });
    reason.value = kept.reason || "";
    url.value = kept.url || "";
    const buttons = j.actions.map((a) => h("button", {
      type: "button", class: "small action-" + a, "data-action": a,
      onclick: () => act(j.job_id, a, reason.value, url.value),
    }, t(a)));
    return h("tr", { "data-job": j.job_id },
      h("td", {}, j.channel, h("br"), h("span", { class: "hint" }, j.content_id)),
      h("td", {}, badge(j.state), h("br"), h("span", { class: "hint" }, "#" + j.attempt)),
      h("td", {}, j.text),
      h("td", {}, j.last_error ? `${j.last_error.code}: ${j.last_error.message}` : (j.note || "—")),
      h("td", { class: "actions" }, j.actions.length ? [reason, j.actions.includes("mark_published") ? url : null, h("br"), buttons]
        : h("span", { class: "hint" }, t("no_actions"))));
  }));
}

async function act(jobId, action, reason, url) {
  const out = $("#action-result");
  try {
    const answer = await api("/v1/jobs/" + encodeURIComponent(jobId) + "/actions", { json: { action, reason: reason || t(action), url: url || null } });
    out.textContent = t("action_done", { action: t(action), job: jobId }) + (answer.note ? " " + answer.note : "");
    out.className = "";
    refresh();
  } catch (err) {
    out.textContent = t("error", { msg: err.message });
    out.className = "error";
  }
}

async function renderPlan() {
  const channel = $("#plan-channel").value;
  if (!channel) return;
  const info = state.channels.find((c) => c.channel === channel);
  const dayInput = $("#plan-day");
  if (!dayInput.value) dayInput.value = new Date().toLocaleDateString("en-CA", { timeZone: info.timezone });
  const plan = await api(`/v1/plan?channel=${encodeURIComponent(channel)}&day=${dayInput.value}`);
  $("#plan-tz").textContent = t("timezone", { tz: plan.timezone });
  const byHour = {};
  plan.jobs.forEach((j) => { const hr = j.local_slot.slice(11, 13); (byHour[hr] = byHour[hr] || []).push(j); });
  const cal = $("#calendar");
  if (!plan.jobs.length) { cal.replaceChildren(h("p", { class: "hint" }, t("no_jobs"))); return; }
  const hours = [];
  for (let hr = 0; hr < 24; hr++) {
    const key = String(hr).padStart(2, "0");
    const jobs = byHour[key] || [];
    hours.push(h("div", { class: "hour" }, h("span", {}, key + ":00"), h("div", {}, jobs.map((j) => {
      const ex = j.explanation || {};
      const why = [ex.reason,
        ex.expected_engagement != null ? t("expected", { value: Number(ex.expected_engagement).toFixed(3) }) : null,
        ex.runner_up ? t("runner_up", { time: fmtTime(ex.runner_up, plan.timezone) }) : null,
        ex.binding_constraint ? t("bound_by", { constraint: ex.binding_constraint }) : null].filter(Boolean).join(" · ");
      return h("div", { class: "slot " + j.state, "data-job": j.job_id },
        h("strong", {}, j.local_slot.slice(11, 16)), " ", badge(j.state), " ", j.text,
        h("div", { class: "why" }, why || j.note || ""));
    }))));
  }
  cal.replaceChildren(...hours);
}

function renderAudit(entries) {
  $("#audit tbody").replaceChildren(...entries.slice(0, 50).map((e) => h("tr", {},
    h("td", {}, fmtTime(e.at)), h("td", {}, e.by), h("td", {}, e.action), h("td", {}, e.target), h("td", {}, e.reason))));
}

function renderDeliveries(rows) {
  $("#webhooks tbody").replaceChildren(...rows.slice(0, 30).map((d) => h("tr", {},
    h("td", {}, fmtTime(d.started_at)), h("td", {}, d.subscriber), h("td", {}, d.event),
    h("td", {}, badge(d.state)), h("td", {}, d.attempts.length))));
}

// ---- lifecycle ------------------------------------------------------------------------------
async function refresh() {
  try {
    const [overview, series, problems, audit, deliveries] = await Promise.all([
      api("/v1/overview"), api("/v1/series"), api("/v1/problems"), api("/v1/audit"),
      // Deliveries concern every channel: a key limited to some channels is refused them (403).
      api("/v1/webhooks/deliveries").catch((err) => {
        if (err.status === 403) return { deliveries: [] };
        throw err;
      })]);
    renderHealth(overview);
    renderPauses(overview);
    renderAccounts(overview);
    renderReauth(overview);
    renderCharts(series);
    renderProblems(problems.jobs);
    renderAudit(audit.entries);
    renderDeliveries(deliveries.deliveries);
    await renderPlan();
    $("#updated").textContent = t("updated", { time: fmtTime(new Date().toISOString()) });
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  } catch (err) {
    if (err.status === 401 || err.status === 403) { signOut(t("login_refused", { msg: err.message })); return; }
    $("#updated").textContent = t("error", { msg: err.message });
  }
}

async function signIn(candidate) {
  sessionStorage.setItem("warta.key", candidate);
  try {
    const me = await api("/v1/whoami");
    $("#who").textContent = t("signed_in", { person: me.person, role: me.role });
    $("#login").hidden = true;
    $("#app").hidden = false;
    $("#logout").hidden = false;
    $("#login-error").textContent = "";
    await refresh();
    clearInterval(state.timer);
    state.timer = setInterval(refresh, 2000);
  } catch (err) {
    signOut(t("login_refused", { msg: err.message }));
  }
}

function signOut(message) {
  clearInterval(state.timer);
  sessionStorage.removeItem("warta.key");
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  $("#login-error").textContent = message || "";
}

document.addEventListener("DOMContentLoaded", () => {
  translate();
  $("#lang").addEventListener("change", (e) => {
    chooseLanguage(e.target.value);
    $("#action-result").textContent = "";  // a message in the other language would linger
    $("#pause-result").textContent = "";
    if (key()) refresh();
  });
  $("#login-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("#login-key").value.trim()); });
  $("#logout").addEventListener("click", () => signOut(""));
  $("#pause-button").addEventListener("click", () => pauseOrResume("pause"));
  $("#resume-button").addEventListener("click", () => pauseOrResume("resume"));
  $("#plan-channel").addEventListener("change", () => renderPlan());
  $("#plan-day").addEventListener("change", () => renderPlan());
  if (key()) signIn(key());
});
