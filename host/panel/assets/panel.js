// The doctor's panel (docs/doctor-panel.md): the doctor's SAS options, publication rules, SAS
// consultations and forfait, over the host's admin API on the same origin.
//
// The vendor opens /panel/#token=JWT[&practitioner=ID]. The token is read from the fragment (which
// never reaches a server or a log), removed from the address bar, kept in memory only and sent as
// `Authorization: Bearer` on every request: no cookie, so no CSRF. Server data is only ever put in
// the page as text (textContent), never as HTML.

const API = "/admin/v1";
const PARIS = "Europe/Paris";
// NGAP art. 14.1.3: at most 20 SNP per doctor and per calendar week (docs/billing.md). The report
// gives each week's count; the cap is the rule file's, shown here for the doctor's reading.
const SNP_PER_WEEK = 20;

const state = {
  token: "",
  practitioner: "",
  subject: "",
  ended: false,
  settings: null,
  rules: [],
};

// --- small DOM helpers ----------------------------------------------------------------------

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// el("td", {class: "x", "data-label": "Créneau"}, "text", child...): text children are text nodes.
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function say(statusElement, text, kind = "ok") {
  statusElement.textContent = text;
  statusElement.classList.toggle("error", kind === "error");
  statusElement.classList.toggle("ok", kind === "ok");
}

// A field's error, next to it and in its accessible description (aria-describedby).
function setFieldError(inputs, errorElement, message) {
  errorElement.textContent = message || "";
  errorElement.hidden = !message;
  for (const input of inputs) {
    const ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter((id) => id && id !== errorElement.id);
    if (message) ids.push(errorElement.id);
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

// --- French formats -----------------------------------------------------------------------------

const dateTimeFormat = new Intl.DateTimeFormat("fr-FR", {
  timeZone: PARIS, weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
});
const dateFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: PARIS, day: "numeric", month: "long", year: "numeric" });
const shortDateTimeFormat = new Intl.DateTimeFormat("fr-FR", {
  timeZone: PARIS, day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
});
const timeFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: PARIS, hour: "2-digit", minute: "2-digit" });
const dayNumber = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });

const when = (iso) => (iso ? dateTimeFormat.format(new Date(iso)) : "");
const whenShort = (iso) => (iso ? shortDateTimeFormat.format(new Date(iso)) : "");
const euros = (text) => `${String(text).replace(".", ",")} €`;

// "2026-11-23" (a Paris day) -> "23 novembre 2026"
function day(text) {
  const [y, m, d] = text.split("-").map(Number);
  return dateFormat.format(new Date(Date.UTC(y, m - 1, d, 12)));
}

// Today in Paris as YYYY-MM-DD, and day arithmetic on such strings.
function parisToday() {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: PARIS, year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}
function addDays(text, days) {
  const [y, m, d] = text.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}
function mondayOf(text) {
  const [y, m, d] = text.split("-").map(Number);
  const weekday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;  // 0 = Monday
  return addDays(text, -weekday);
}

// "+33612345678" -> "06 12 34 56 78" (what a French doctor reads); other forms are kept.
function phoneForReading(phone) {
  if (!phone) return "";
  const match = /^\+33(\d{9})$/.exec(phone);
  if (!match) return phone;
  return `0${match[1]}`.replace(/(\d{2})(?=\d)/g, "$1 ");
}

const yesNo = (value) => (value === true ? "oui" : value === false ? "non" : "jamais renseigné");

const OPTION_LABELS = {
  volunteer: "Je participe au SAS",
  visible: "Mon agenda est visible par le SAS",
  consent_to_call: "Être appelé avant toute orientation",
  phone: "Numéro à appeler",
};

const SOURCES = {
  panel: "ce panneau",
  "admin-api": "votre logiciel (API d'administration)",
  plugin: "votre logiciel d'agenda",
  cli: "la ligne de commande (exploitant)",
};

const DAYS = { mon: "lundi", tue: "mardi", wed: "mercredi", thu: "jeudi", fri: "vendredi", sat: "samedi", sun: "dimanche" };

const AUDIENCES = { PUBLIC: "public", PRO: "professionnels", SNP: "SNP (régulateurs du SAS)" };

// --- the admin API --------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function practitionerPath(suffix = "") {
  return `${API}/practitioners/${encodeURIComponent(state.practitioner)}${suffix}`;
}

async function api(method, path, { body, text = false } = {}) {
  if (state.ended) throw new ApiError(401, "");
  const headers = { Authorization: `Bearer ${state.token}`, Accept: text ? "text/csv" : "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit", redirect: "error", referrerPolicy: "no-referrer",
    });
  } catch (error) {
    throw new ApiError(0, "Le service SAS ne répond pas : vérifiez la connexion puis réessayez.");
  }
  if (response.status === 401) {
    endSession("expired");
    throw new ApiError(401, "");
  }
  if (response.status === 403) {
    endSession("forbidden");
    throw new ApiError(403, "");
  }
  if (!response.ok) {
    let message = "";
    try {
      message = (await response.json()).error.message;
    } catch (ignored) {
      message = `erreur ${response.status}`;
    }
    throw new ApiError(response.status, message);
  }
  if (response.status === 204) return null;
  return text ? response.text() : response.json();
}

// A failure the section shows itself (401 and 403 end the whole page instead).
function failure(error) {
  if (error.status === 401 || error.status === 403) return "";
  if (error.status === 0) return error.message;
  if (error.status >= 500) return `Le service SAS n'a pas pu répondre (${error.status}) : réessayez dans un moment.`;
  return error.message;
}

// --- the session ------------------------------------------------------------------------------

const SESSION_PROBLEMS = {
  missing: ["Aucune session ouverte.", "Ouvrez ce panneau depuis votre logiciel d'agenda."],
  // 401: the host does not say whether the token expired or was never valid; both end the same way.
  expired: ["Votre session a expiré : rouvrez le panneau depuis votre logiciel.",
    "Pour votre sécurité, l'accès à ce panneau est limité dans le temps (ou ce lien n'est pas valable). "
    + "Vos choix déjà enregistrés sont conservés."],
  forbidden: ["Accès refusé : cette session ne donne pas accès aux réglages de ce médecin.",
    "Rouvrez le panneau depuis votre logiciel, connecté à votre propre compte."],
};

function endSession(reason) {
  if (state.ended) return;
  state.ended = true;
  state.token = "";
  const [title, detail] = SESSION_PROBLEMS[reason];
  const box = $("#session-problem");
  box.replaceChildren(el("p", { class: "title" }, title), el("p", {}, detail));
  box.dataset.reason = reason;
  box.hidden = false;
  $("#main").hidden = true;
  $("#sections-nav").hidden = true;
  $("#session-info").textContent = "Session fermée.";
}

function readFragment() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  // The token leaves the address bar (and so the history, bookmarks and screenshots) at once.
  if (window.location.hash) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return { token: params.get("token") || "", practitioner: params.get("practitioner") || "" };
}

async function openSession() {
  const fragment = readFragment();
  state.token = fragment.token;
  if (!state.token) {
    endSession("missing");
    return false;
  }
  let session = null;
  try {
    session = await api("GET", `${API}/panel/session`);
  } catch (error) {
    if (error.status === 401 || error.status === 403) return false;
    // Without the session route (a token that is not a panel token), the fragment names the doctor.
  }
  // The fragment may name the doctor; the host decides whether this token may act for them (403).
  state.practitioner = fragment.practitioner || (session && session.practitioner) || "";
  state.subject = (session && session.subject) || "";
  if (!/^[0-9]{9,12}$/.test(state.practitioner)) {
    endSession("missing");
    return false;
  }
  const parts = [`Médecin ${state.practitioner}`];
  if (state.subject) parts.push(`connecté en tant que ${state.subject}`);
  if (session && session.expires_at) {
    parts.push(`session valable jusqu'à ${timeFormat.format(new Date(session.expires_at))}`);
    const left = new Date(session.expires_at).getTime() - Date.now();
    // setTimeout's limit is 2^31 - 1 ms; a panel session lasts minutes.
    if (left > 0 && left < 2 ** 31) window.setTimeout(() => endSession("expired"), left);
  }
  $("#session-info").textContent = `${parts.join(" · ")}.`;
  $("#main").hidden = false;
  $("#sections-nav").hidden = false;
  return true;
}

// --- Ma participation au SAS ------------------------------------------------------------------

const OPTIONS = ["volunteer", "visible", "consent_to_call"];

function showSettings(settings) {
  state.settings = settings;
  const form = $("#participation-form");
  for (const name of OPTIONS) {
    for (const radio of $$(`input[name="${name}"]`, form)) {
      radio.checked = settings[name] !== null && radio.value === String(settings[name]);
    }
    $(`[data-unset="${name}"]`, form).hidden = settings[name] !== null;
  }
  $("#phone").value = phoneForReading(settings.phone);
}

function historyTable(field, changes) {
  const rows = changes.filter((c) => c.field === field).reverse();  // the latest first
  if (!rows.length) return el("p", { class: "empty" }, "Aucun changement enregistré.");
  const value = (v) => (field === "phone" ? phoneForReading(v) || "(retiré)" : yesNo(v));
  return el("table", { class: "history-table stack" },
    el("caption", { class: "visually-hidden" }, `Historique : ${OPTION_LABELS[field]}`),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, "Valeur"), el("th", { scope: "col" }, "Depuis le"),
      el("th", { scope: "col" }, "Par"), el("th", { scope: "col" }, "Par quel moyen"))),
    el("tbody", {}, rows.map((c) => el("tr", {},
      el("td", { "data-label": "Valeur" }, value(c.value)),
      el("td", { "data-label": "Depuis le" }, whenShort(c.effective_at),
        c.recorded_at !== c.effective_at ? el("span", { class: "aside" }, ` (enregistré le ${whenShort(c.recorded_at)})`)
          : null),
      el("td", { "data-label": "Par" }, c.changed_by || "—"),
      el("td", { "data-label": "Par quel moyen" }, SOURCES[c.source] || c.source)))));
}

function showHistory(history) {
  for (const field of [...OPTIONS, "phone"]) {
    $(`[data-history="${field}"]`).replaceChildren(historyTable(field, history.changes));
  }
}

async function loadParticipation() {
  const [settings, history] = await Promise.all([
    api("GET", practitionerPath("/settings")), api("GET", practitionerPath("/settings/history"))]);
  showSettings(settings);
  showHistory(history);
}

// The server's messages name the key first ("phone: '12' is not a French phone number ...").
const FIELD_MESSAGES = {
  phone: "Ce numéro n'est pas un numéro de téléphone français : 10 chiffres commençant par 0 (06 12 34 56 78), "
    + "ou +33 suivi de 9 chiffres.",
};

function participationInputs(field) {
  return field === "phone" ? [$("#phone")] : $$(`input[name="${field}"]`, $("#participation-form"));
}

async function saveParticipation(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const status = $("#participation-status");
  if (!state.settings) {
    say(status, "Vos options n'ont pas pu être lues : rechargez le panneau depuis votre logiciel.", "error");
    return;
  }
  for (const field of [...OPTIONS, "phone"]) {
    setFieldError(participationInputs(field), $(`#${field}-error`), "");
  }
  const change = {};
  for (const name of OPTIONS) {
    const checked = $(`input[name="${name}"]:checked`, form);
    if (checked && String(state.settings[name]) !== checked.value) change[name] = checked.value === "true";
  }
  const phone = $("#phone").value.trim();
  if (phone !== phoneForReading(state.settings.phone)) change.phone = phone;
  if (!Object.keys(change).length) {
    say(status, "Aucun changement à enregistrer.");
    return;
  }
  const button = $("button[type=submit]", form);
  button.disabled = true;
  say(status, "Enregistrement…");
  try {
    const settings = await api("PATCH", practitionerPath("/settings"), { body: change });
    showSettings(settings);
    const saved = Object.keys(change).map((name) => `${OPTION_LABELS[name]} : ${
      name === "phone" ? phoneForReading(settings.phone) || "retiré" : yesNo(settings[name])}`);
    say(status, `Enregistré. ${saved.join(" ; ")}.`);
    // What SAS sees follows these options.
    await Promise.allSettled([loadHistoryOnly(), loadSlots(), loadForfait()]);
  } catch (error) {
    const message = failure(error);
    if (!message) return;
    const field = /^([a-z_]+):/.exec(message);
    if (error.status === 400 && field && participationInputs(field[1]).length) {
      const name = field[1];
      const text = FIELD_MESSAGES[name] || message.slice(name.length + 1).trim();
      setFieldError(participationInputs(name), $(`#${name}-error`), text);
      say(status, `Rien n'a été enregistré : ${text}`, "error");
      participationInputs(name)[0].focus();
    } else {
      say(status, `Rien n'a été enregistré : ${message}`, "error");
    }
  } finally {
    button.disabled = false;
  }
}

async function loadHistoryOnly() {
  showHistory(await api("GET", practitionerPath("/settings/history")));
}

// --- Mes créneaux pour le SAS -------------------------------------------------------------------

function list(items) {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} et ${items[items.length - 1]}`;
}

function describeRule(rule) {
  const motives = (rule.motives || []).map((m) => `« ${m} »`);
  switch (rule.kind) {
    case "snp-hours":
      return `Réservés au SAS (SNP) : les créneaux qui commencent le ${list((rule.days || []).map((d) => DAYS[d] || d))}`
        + ` entre ${rule.from} et ${rule.to}.`;
    case "snp-motives":
      return `Réservés au SAS (SNP) : les créneaux des motifs ${list(motives)}.`;
    case "public-also-snp":
      return "Tous mes créneaux publics sont aussi proposés aux régulateurs du SAS (SNP).";
    case "hide-motives":
      return `Jamais publiés : les motifs ${list(motives)}.`;
    default:
      return `Règle « ${rule.kind} ».`;
  }
}

function showRules(rules, highlighted = 0) {
  state.rules = rules;
  const items = rules.map((rule) => {
    const description = describeRule(rule);
    const remove = el("button", { type: "button", class: "secondary", "aria-label": `Supprimer la règle ${rule.id} : ${description}` },
      "Supprimer");
    remove.addEventListener("click", () => removeRule(rule));
    return el("li", { id: `rule-${rule.id}`, class: rule.id === highlighted ? "conflict" : null, "data-rule": rule.id },
      el("span", { class: "rule-id" }, `Règle ${rule.id}`),
      el("span", { class: "rule-text" }, description),
      rule.note ? el("span", { class: "rule-note" }, `Note : ${rule.note}`) : null,
      remove);
  });
  $("#rules-list").replaceChildren(...items);
  $("#rules-list").hidden = !rules.length;
  $("#rules-empty").hidden = rules.length > 0;
}

async function loadRules(highlighted = 0) {
  showRules((await api("GET", practitionerPath("/rules"))).rules, highlighted);
}

async function removeRule(rule) {
  const status = $("#rules-status");
  say(status, `Suppression de la règle ${rule.id}…`);
  try {
    await api("DELETE", practitionerPath(`/rules/${encodeURIComponent(rule.id)}`));
    await loadRules();
    say(status, `Règle ${rule.id} supprimée : ${describeRule(rule)}`);
    $("#rule-kind").focus();  // the button that had the focus is gone
    await loadSlots();
  } catch (error) {
    const message = failure(error);
    if (message) say(status, `La règle ${rule.id} n'a pas été supprimée : ${message}`, "error");
  }
}

const RULE_HELP = {
  "snp-hours": "Les créneaux qui commencent ces jours-là dans cette plage horaire ne sont proposés qu'aux régulateurs du SAS.",
  "snp-motives": "Les créneaux de ces motifs ne sont proposés qu'aux régulateurs du SAS.",
  "public-also-snp": "Chaque créneau ouvert au public est aussi proposé aux régulateurs du SAS, comme créneau SNP.",
  "hide-motives": "Ces motifs ne sont jamais montrés au SAS ; un créneau qui n'a que ces motifs n'est pas proposé.",
};

function showRuleKind() {
  const kind = $("#rule-kind").value;
  for (const part of $$("[data-kinds]", $("#rule-form"))) {
    part.hidden = !part.dataset.kinds.split(" ").includes(kind);
  }
  $("#rule-kind-help").textContent = RULE_HELP[kind];
}

const RULE_FIELDS = {
  days: () => $$("input[name=days]"),
  from: () => [$("#rule-from")],
  to: () => [$("#rule-to")],
  motives: () => [$("#rule-motives")],
  note: () => [$("#rule-note")],
};
// The host's rule messages name the key; the doctor reads French.
function ruleMessage(field, message) {
  if ((field === "from" || field === "to") && message.includes("HH:MM")) {
    return "Heure attendue au format HH:MM, de 00:00 à 24:00 (par exemple 17:30).";
  }
  if (field === "to" && message.includes("after from")) {
    return "La fin doit être après le début ; une règle ne passe pas minuit (faites-en deux).";
  }
  if (field === "motives" && message.includes("listed twice")) return "Un motif est écrit deux fois.";
  return message;
}
const ruleError = (field) => (field === "days" ? $("#rule-days-error") : $(`#rule-${field}-error`));

function clearRuleErrors() {
  for (const [field, inputs] of Object.entries(RULE_FIELDS)) setFieldError(inputs(), ruleError(field), "");
  setFieldError([$("#rule-kind")], $("#rule-error"), "");
}

async function addRule(event) {
  event.preventDefault();
  clearRuleErrors();
  const status = $("#rule-form-status");
  const kind = $("#rule-kind").value;
  const rule = { kind };
  if (kind === "snp-hours") {
    rule.days = $$("input[name=days]:checked").map((box) => box.value);
    rule.from = $("#rule-from").value.trim();
    rule.to = $("#rule-to").value.trim();
    if (!rule.days.length) {
      setFieldError(RULE_FIELDS.days(), ruleError("days"), "Choisissez au moins un jour.");
      say(status, "Rien n'a été ajouté : choisissez au moins un jour.", "error");
      RULE_FIELDS.days()[0].focus();
      return;
    }
  }
  if (kind === "snp-motives" || kind === "hide-motives") {
    rule.motives = $("#rule-motives").value.split(",").map((m) => m.trim()).filter(Boolean);
    if (!rule.motives.length) {
      setFieldError(RULE_FIELDS.motives(), ruleError("motives"), "Indiquez au moins un motif.");
      say(status, "Rien n'a été ajouté : indiquez au moins un motif.", "error");
      $("#rule-motives").focus();
      return;
    }
  }
  const note = $("#rule-note").value.trim();
  if (note) rule.note = note;
  const button = $("button[type=submit]", event.currentTarget);
  button.disabled = true;
  say(status, "Ajout de la règle…");
  try {
    const added = await api("POST", practitionerPath("/rules"), { body: rule });
    await loadRules();
    say(status, `Règle ${added.id} ajoutée : ${describeRule(added)}`);
    $("#rule-motives").value = "";
    $("#rule-note").value = "";
    await loadSlots();
  } catch (error) {
    const message = failure(error);
    if (!message) return;
    if (error.status === 409) {
      // "conflict: ... see rule 3 (snp-hours)": show the rule it conflicts with, in the list too.
      const id = Number((/rule (\d+)/.exec(message) || [])[1] || 0);
      await loadRules(id).catch(() => {});
      const other = state.rules.find((r) => r.id === id);
      const text = other ? `Cette règle est en conflit avec la règle ${id} : ${describeRule(other)}`
        : `Cette règle est en conflit avec une règle existante (${message}).`;
      setFieldError([$("#rule-kind")], $("#rule-error"), `${text} Supprimez-la d'abord, ou changez la nouvelle règle.`);
      say(status, `Rien n'a été ajouté : ${text}`, "error");
      $("#rule-kind").focus();
      return;
    }
    const field = /^(?:rule: )?([a-z_]+)(?:\[\d+\])?:/.exec(message);
    let text = message;
    if (error.status === 400 && field && RULE_FIELDS[field[1]]) {
      text = ruleMessage(field[1], message);
      setFieldError(RULE_FIELDS[field[1]](), ruleError(field[1]), text);
      RULE_FIELDS[field[1]]()[0].focus();
    } else {
      setFieldError([$("#rule-kind")], $("#rule-error"), message);
    }
    say(status, `Rien n'a été ajouté : ${text}`, "error");
  } finally {
    button.disabled = false;
  }
}

function slotVerdict(slot) {
  if (!slot.published) return el("strong", { class: "verdict hidden-slot" }, "Non proposé au SAS");
  const types = slot.types.map((t) => AUDIENCES[t] || t);
  const snpOnly = slot.types.length === 1 && slot.types[0] === "SNP";
  return el("strong", { class: snpOnly ? "verdict snp" : "verdict published" },
    snpOnly ? "Réservé au SAS (SNP)" : `Proposé au SAS : ${list(types)}`);
}

function slotReasons(slot) {
  if (!slot.steps.length) {
    return el("span", {}, slot.published ? "Tel que votre agenda l'ouvre." : "—");
  }
  return el("ul", { class: "reasons" }, slot.steps.map((step) => el("li", {}, step.fr || step.why)));
}

async function loadSlots() {
  const status = $("#slots-status");
  const start = new Date();
  const end = new Date(start.getTime() + 48 * 3600 * 1000);
  $("#slots-window").textContent = `Du ${when(start.toISOString())} au ${when(end.toISOString())} (heure de Paris).`;
  say(status, "Chargement des créneaux…");
  try {
    const query = `?start=${encodeURIComponent(start.toISOString())}&end=${encodeURIComponent(end.toISOString())}`;
    const answer = await api("GET", practitionerPath(`/explain${query}`));
    const slots = [...answer.slots].sort((a, b) => new Date(a.start) - new Date(b.start));
    const rows = slots.map((slot) => el("tr", { "data-slot": slot.slot, "data-published": String(slot.published),
      "data-types": slot.types.join("+") },
    el("th", { scope: "row", "data-label": "Créneau" }, `${when(slot.start)} – ${timeFormat.format(new Date(slot.end))}`),
    el("td", { "data-label": "Pour le SAS" }, slotVerdict(slot)),
    el("td", { "data-label": "Motifs" }, (slot.published ? slot.motives : slot.agenda.motives).join(", ") || "—"),
    el("td", { "data-label": "Pourquoi" }, slotReasons(slot))));
    $("#slots-table tbody").replaceChildren(...rows);
    $("#slots-table").hidden = !rows.length;
    $("#slots-empty").hidden = rows.length > 0;
    const published = slots.filter((s) => s.published).length;
    say(status, rows.length ? `${published} créneau${published > 1 ? "x" : ""} sur ${slots.length} proposé${
      published > 1 ? "s" : ""} au SAS.` : "");
  } catch (error) {
    const message = failure(error);
    if (message) say(status, `Les créneaux n'ont pas pu être lus : ${message}`, "error");
  }
}

// --- Mes consultations SAS ------------------------------------------------------------------------

function codeText(decision) {
  if (decision.code === "SNP") return `SNP + ${decision.parcours_indicator || "U"}`;
  if (decision.code === "MRT") return "MRT";
  return "aucune majoration";
}

function consultationReasons(decision) {
  const unmet = decision.reasons.filter((r) => !r.met);
  const shown = decision.code === "none" ? unmet : decision.reasons;
  return el("details", { class: "reasons-details" },
    el("summary", {}, decision.code === "none" ? `Pourquoi aucune majoration (${unmet.length})`
      : `Pourquoi ${codeText(decision)}`),
    el("ul", { class: "reasons" }, shown.map((r) => el("li", { class: r.met ? "met" : "unmet" },
      el("span", { class: "visually-hidden" }, r.met ? "Condition remplie : " : "Condition non remplie : "), r.fr))));
}

function consultationsQuery(format) {
  const from = $("#consultations-from").value;
  const to = $("#consultations-to").value;
  return `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}${format ? `&format=${format}` : ""}`;
}

async function loadConsultations(event) {
  if (event) event.preventDefault();
  const status = $("#consultations-status");
  say(status, "Chargement des consultations…");
  try {
    const report = await api("GET", practitionerPath(`/consultations${consultationsQuery("")}`));
    const byWeek = new Map(report.weeks.map((w) => [w.week_start, { week: w, rows: [] }]));
    for (const c of report.consultations) {
      if (!byWeek.has(c.week_start)) byWeek.set(c.week_start, { week: { week_start: c.week_start, snp_count: 0 }, rows: [] });
      byWeek.get(c.week_start).rows.push(c);
    }
    const weeks = [...byWeek.values()].sort((a, b) => (a.week.week_start < b.week.week_start ? 1 : -1));
    $("#consultations-weeks").replaceChildren(...weeks.map(({ week, rows }) => {
      const id = `week-${week.week_start}`;
      const full = week.snp_count >= SNP_PER_WEEK;
      return el("section", { class: "week", "aria-labelledby": id, "data-week": week.week_start },
        el("h3", { id }, `Semaine du lundi ${day(week.week_start)}`,
          el("span", { class: full ? "count full" : "count" }, ` — SNP : ${week.snp_count}/${SNP_PER_WEEK}`)),
        el("div", { class: "table-wrap" }, el("table", { class: "stack consultations-table" },
          el("caption", { class: "visually-hidden" }, `Consultations SAS de la semaine du ${day(week.week_start)}`),
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Consultation"), el("th", { scope: "col" }, "Régulation"),
            el("th", { scope: "col" }, "Majoration"), el("th", { scope: "col" }, "Montant"),
            el("th", { scope: "col" }, "Raisons"))),
          el("tbody", {}, rows.map((c) => el("tr", { "data-consultation": c.consultation_id, "data-code": c.decision.code },
            el("th", { scope: "row", "data-label": "Consultation" }, whenShort(c.consulted_at)),
            el("td", { "data-label": "Régulation" }, whenShort(c.regulated_at)),
            el("td", { "data-label": "Majoration" }, el("strong", {}, codeText(c.decision))),
            el("td", { "data-label": "Montant" }, euros(c.decision.amount_euros)),
            el("td", { "data-label": "Raisons" }, consultationReasons(c.decision))))))));
    }));
    const t = report.totals;
    $("#consultations-totals").textContent = report.consultations.length
      ? `Sur la période : ${t.snp} SNP, ${t.mrt} MRT, ${t.none} sans majoration ; total ${euros(t.amount_euros)}.` : "";
    $("#consultations-empty").hidden = report.consultations.length > 0;
    say(status, `${report.consultations.length} consultation${report.consultations.length > 1 ? "s" : ""} SAS du ${
      day($("#consultations-from").value)} au ${day($("#consultations-to").value)}.`);
  } catch (error) {
    const message = failure(error);
    if (message) say(status, `Les consultations n'ont pas pu être lues : ${message}`, "error");
  }
}

// The CSV through fetch and a Blob: the token stays in a header, never in a URL.
async function downloadCsv() {
  const status = $("#consultations-status");
  say(status, "Préparation du fichier CSV…");
  try {
    const csv = await api("GET", practitionerPath(`/consultations${consultationsQuery("csv")}`), { text: true });
    const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
    const link = el("a", { href: url, download: `consultations-sas-${state.practitioner}-${
      $("#consultations-from").value}-${$("#consultations-to").value}.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10000);
    say(status, "Fichier CSV téléchargé.");
  } catch (error) {
    const message = failure(error);
    if (message) say(status, `Le fichier CSV n'a pas pu être préparé : ${message}`, "error");
  }
}

// --- Forfait structure (indicateur 8) -------------------------------------------------------------

function periodsTable(title, periods) {
  return el("div", { class: "periods" },
    el("h3", {}, title),
    periods.length ? el("ul", {}, periods.map((p) => el("li", {},
      `du ${whenShort(p.from)} au ${whenShort(p.to)} : ${dayNumber.format(p.days)} jour${p.days >= 2 ? "s" : ""}`)))
      : el("p", { class: "empty" }, "Aucune période."));
}

async function loadForfait(event) {
  if (event) event.preventDefault();
  const status = $("#forfait-status");
  const year = $("#forfait-year").value;
  say(status, "Chargement…");
  try {
    const report = await api("GET", `${API}/reports/forfait?year=${encodeURIComponent(year)}&practitioner=${
      encodeURIComponent(state.practitioner)}&format=json`);
    const line = report.doctors.find((d) => d.practitioner === state.practitioner)
      || { volunteer: [], visible: [], both: [], volunteer_days: 0, visible_days: 0, both_days: 0, both_at_end: false };
    const thisYear = Number(year) === Number(parisToday().slice(0, 4));
    const summary = $("#forfait-summary");
    const item = (term, value, id) => [el("dt", {}, term), el("dd", { id }, value)];
    summary.replaceChildren(
      ...item("Volontaire pour le SAS", `${dayNumber.format(line.volunteer_days)} jours`, "forfait-volunteer-days"),
      ...item("Agenda visible par le SAS", `${dayNumber.format(line.visible_days)} jours`, "forfait-visible-days"),
      ...item("Les deux à la fois", `${dayNumber.format(line.both_days)} jours`, "forfait-both-days"),
      ...item(thisYear ? "Aujourd'hui" : `Au 31 décembre ${year}`,
        line.both_at_end ? "volontaire et agenda visible : l'indicateur est rempli"
          : "l'indicateur n'est pas rempli (il faut être volontaire et avoir un agenda visible)", "forfait-now"));
    summary.hidden = false;
    $("#forfait-periods").replaceChildren(periodsTable("Périodes comme volontaire", line.volunteer),
      periodsTable("Périodes avec un agenda visible", line.visible),
      periodsTable("Périodes avec les deux", line.both));
    say(status, thisYear ? `Année ${year}, jusqu'à aujourd'hui.` : `Année ${year}.`);
  } catch (error) {
    const message = failure(error);
    if (message) say(status, `Le forfait n'a pas pu être lu : ${message}`, "error");
  }
}

// --- start ----------------------------------------------------------------------------------------

async function start() {
  if (!(await openSession())) return;
  const today = parisToday();
  $("#consultations-from").value = mondayOf(addDays(today, -7 * 7));
  $("#consultations-to").value = today;
  const year = Number(today.slice(0, 4));
  $("#forfait-year").replaceChildren(...[year, year - 1, year - 2].map((y) => el("option", { value: y }, String(y))));

  $("#participation-form").addEventListener("submit", saveParticipation);
  $("#rule-form").addEventListener("submit", addRule);
  $("#rule-kind").addEventListener("change", showRuleKind);
  $("#consultations-form").addEventListener("submit", loadConsultations);
  $("#consultations-csv").addEventListener("click", downloadCsv);
  $("#forfait-form").addEventListener("submit", loadForfait);
  showRuleKind();

  try {
    await loadParticipation();
  } catch (error) {
    const message = failure(error);
    if (message) say($("#participation-status"), `Vos options n'ont pas pu être lues : ${message}`, "error");
  }
  await Promise.allSettled([
    loadRules().catch((error) => {
      const message = failure(error);
      if (message) say($("#rules-status"), `Vos règles n'ont pas pu être lues : ${message}`, "error");
    }),
    loadSlots(), loadConsultations(), loadForfait()]);
  document.body.dataset.ready = state.ended ? "ended" : "true";
}

// The vendor may hand a new token to the page already open (a new fragment on the same URL does
// not reload it): start again with it.
window.addEventListener("hashchange", () => {
  if (new URLSearchParams(window.location.hash.slice(1)).has("token")) window.location.reload();
});

start().finally(() => {
  if (!document.body.dataset.ready) document.body.dataset.ready = "ended";
});
