"use strict";
// The complaint channel on the inbox page: comments recorded as SP4N-LAPOR! complaints, with the
// deadline each runs against (working days in the channel's zone) and what is overdue. Loaded
// after page.js and inbox.js, whose t(), locale(), api(), el() and refresh() it uses (its labels
// are in inbox.js's table, with the page's others); values reach the page as text only.

function complaintNode(c) {
  const item = el("li");
  const meta = el("div", null, "meta");
  const when = (iso) => new Date(iso).toLocaleString(locale());
  meta.append(el("span", t("c_" + c.state), "state"), el("span", " · " + c.channel + " · " + (c.comment.author.name || c.comment.author.id)));
  if (c.next_due) meta.append(el("span", " · " + t("c_due") + " " + when(c.next_due)));
  if (c.overdue) meta.append(el("span", " · " + t("c_overdue"), "error"));
  if (c.tracking_id) meta.append(el("span", " · " + t("c_tracking") + " " + c.tracking_id));
  item.append(meta, el("p", c.comment.text, "text"));
  if (c.last_error) item.append(el("div", c.last_error, "error"));
  const actions = el("div", null, "actions");
  const verbs = { recorded: ["forward", "close"], forwarded: ["answer"], answered: ["close"] }[c.state] || [];
  for (const verb of verbs) {
    const b = el("button", t("c_" + verb));
    b.type = "button";
    b.addEventListener("click", () => {
      const reason = prompt(t("ask_reason"));
      if (reason === null) return;
      api("POST", "/v1/complaints/" + c.complaint_id + "/" + verb, { reason })
        .then(refresh, (e) => { $("#error").textContent = e.message; refresh(); });
    });
    actions.append(b);
  }
  item.append(actions);
  return item;
}

async function loadComplaints() {
  const query = $("#c-overdue").checked ? "?overdue=true" : "";
  const data = await api("GET", "/v1/complaints" + query);
  const list = $("#complaints");
  list.replaceChildren(...data.items.map(complaintNode));
  if (!data.items.length) list.append(el("li", t("c_none"), "meta"));
}

// A comment becomes a complaint from its own actions (inbox.js calls this for each comment).
function complaintButton(entry, actions) {
  const b = el("button", t("complaint"));
  b.type = "button";
  b.addEventListener("click", () => {
    const reason = prompt(t("ask_reason"));
    if (reason === null) return;
    api("POST", "/v1/inbox/" + entry.key + "/complaint", { reason })
      .then(refresh, (e) => { $("#error").textContent = e.message; });
  });
  actions.append(b);
}

$("#c-overdue").addEventListener("change", () => refresh());
translate();
