"use strict";
// What the console's and the inbox's pages share, loaded before each page's own script: the
// language a person reads in (one choice for both pages, kept in localStorage), a label in it,
// and a call to the API. The page's own script declares `I18N`: every label it or its HTML uses,
// with its words in LANGUAGES' order.

// The languages the pages speak, in the order of every label's words: the name each is offered
// under in #lang (in its own words) and how it writes dates and numbers.
const LANGUAGES = [
  { code: "en", name: "English", locale: "en-GB" },
  { code: "id", name: "Bahasa Indonesia", locale: "id-ID" },
];
const reading = { lang: localStorage.getItem("warta.lang") || "en" };

function $(selector) { return document.querySelector(selector); }

// The label `key` in the page's language (its English words where it has none there, the key
// itself where it is no label), each `{name}` in it replaced by vars.name.
function t(key, vars) {
  const words = I18N[key];
  let text = words ? words[LANGUAGES.findIndex((l) => l.code === reading.lang)] || words[0] : key;
  for (const [k, v] of Object.entries(vars || {})) text = text.split("{" + k + "}").join(String(v));
  return text;
}

function locale() {
  return (LANGUAGES.find((l) => l.code === reading.lang) || LANGUAGES[0]).locale;
}

// Every element marked data-i18n (its text) or data-i18n-placeholder, in the page's language.
function translate() {
  document.documentElement.lang = reading.lang;
  $("#lang").value = reading.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
}

// #lang offers each language (this script comes at the end of the page, after #lang).
$("#lang").replaceChildren(...LANGUAGES.map((l) => {
  const option = document.createElement("option");
  option.value = l.code;
  option.textContent = l.name;
  return option;
}));

// The language picked (kept for both pages, and for the next visit), the page written in it.
function chooseLanguage(lang) {
  reading.lang = lang;
  localStorage.setItem("warta.lang", lang);
  translate();
}

// A call to the API with the caller's `key`; `body`, when given, is sent as JSON. A refusal comes
// back in the page's language (the API reads Accept-Language) and is thrown as an Error whose
// message is its sentences and whose `status` is the HTTP status.
async function callApi(key, method, path, body) {
  const options = { method, headers: { Authorization: "Bearer " + key, "Accept-Language": reading.lang } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const answer = await fetch(path, options);
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const error = new Error((data.errors || []).map((e) => e.message).join("; ") || answer.statusText);
    error.status = answer.status;
    throw error;
  }
  return data;
}
