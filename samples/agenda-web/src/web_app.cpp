#include "web_app.hpp"

#include <openssl/crypto.h>

#include <cstdio>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/panel_token.hpp>
#include <sas/sdk/regulator_access.hpp>
#include <vector>

#include "agenda_store.hpp"
#include "http_text.hpp"
#include "password.hpp"

namespace sas::sample::agenda_web {

namespace access = sas::sdk::regulator_access;
using sas::host::server::Request;
using sas::host::server::Response;
using Clock = std::chrono::system_clock;

struct WebApp::Context {
  access::OriginCheck origin;
  std::optional<std::string> session_id;
  std::optional<SessionRecord> session;
  std::optional<RegulatorAccountRow> account;
  access::Decision decision;
  bool logged_in = false;    // a live session of an existing, active account (rights or not)
  bool end_session = false;  // the decision ended the session's use: drop it and its cookie
};

namespace {

// Unlike a real deployment, the sample speaks plain HTTP on loopback, hence no `Secure`.
std::string session_cookie(const std::string& id) {
  return std::string(kSessionCookie) + "=" + id + "; Path=/; HttpOnly; SameSite=Lax";
}
std::string cleared_cookie() { return std::string(kSessionCookie) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"; }

int64_t seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string paris_time(int64_t utc_seconds) {
  auto local = sas::sdk::datetime::to_paris_local(sas::sdk::datetime::Instant(std::chrono::seconds(utc_seconds)));
  auto day = std::chrono::floor<std::chrono::days>(local);
  std::chrono::year_month_day date(day);
  std::chrono::hh_mm_ss time(std::chrono::duration_cast<std::chrono::minutes>(local - day));
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()));
  return text;
}

Response html(int status, const std::string& title, const std::string& body) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers = {{"Cache-Control", "no-store"},
               {"Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"}};
  r.body = "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
           "</title><style>body{font-family:sans-serif;max-width:46em;margin:2em auto}"
           ".error{color:#a00}label{display:block;margin:.5em 0}</style></head>\n<body>\n<h1>" +
           html_escape(title) + "</h1>\n" + body + "</body></html>\n";
  return r;
}

Response redirect(const std::string& location) {
  Response r;
  r.status = 303;
  r.content_type.clear();
  r.headers = {{"Location", location}, {"Cache-Control", "no-store"}};
  return r;
}

Response with_cookie(Response r, const std::string& cookie) {
  r.headers.emplace_back("Set-Cookie", cookie);
  return r;
}

// A return path must be one of our booking pages: no open redirect through /login or /terms.
bool safe_segment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_' || c == '~')) {
      return false;
    }
  }
  return true;
}
std::string safe_return(const std::optional<std::string>& path) {
  if (!path || !path->starts_with("/rdv/")) return "/";
  std::string_view rest = std::string_view(*path).substr(5);
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || !safe_segment(rest.substr(0, slash)) ||
      !safe_segment(rest.substr(slash + 1))) {
    return "/";
  }
  return *path;
}

std::string with_origin(const std::string& path, bool through_sas) {
  return through_sas ? path + "?" + std::string(access::kOriginParameter) : path;
}

std::string login_url(bool through_sas, const std::string& return_path, std::string_view why = {}) {
  std::string url = "/login?";
  if (through_sas) url += std::string(access::kOriginParameter) + "&";
  url += "return=" + url_encode(return_path);
  if (!why.empty()) url += "&why=" + std::string(why);
  return url;
}

bool same_token(const std::optional<std::string>& given, const std::string& expected) {
  return given && given->size() == expected.size() && !expected.empty() &&
         CRYPTO_memcmp(given->data(), expected.data(), expected.size()) == 0;
}

// User input in a log line: no control characters, bounded.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, 120));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

std::string csrf_field(const std::string& token) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + html_escape(token) + "\">";
}

std::string multiline(const std::string& text) {
  std::string out = html_escape(text);
  for (std::size_t at = out.find('\n'); at != std::string::npos; at = out.find('\n', at)) {
    out.replace(at, 1, "<br>");
  }
  return out;
}

std::string place_header(const PlaceView& place) {
  return "<p>Dr " + html_escape(place.practitioner_name) +
         (place.place_name.empty() ? "" : " &mdash; " + html_escape(place.place_name)) + "<br>" +
         multiline(place.address) + "<br>" + html_escape(place.postal_code) + " " + html_escape(place.city) + "</p>\n";
}

// Request target -> decoded path segments (nullopt if an escape is malformed or decodes to '/').
std::optional<std::vector<std::string>> path_segments(std::string_view path) {
  std::vector<std::string> segments;
  if (path.empty() || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  while (!path.empty()) {
    auto slash = path.find('/');
    std::string_view raw = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    // '+' is literal in a path: decode only %XX.
    std::string decoded;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%') {
        auto byte = form_decode(raw.substr(i, 3));
        if (!byte || *byte == "/") return std::nullopt;
        decoded += *byte;
        i += 2;
      } else {
        decoded += raw[i];
      }
    }
    segments.push_back(std::move(decoded));
  }
  return segments;
}

const char* kTermsText =
    "<p>Conditions d'utilisation de l'agenda (exemple) : en tant que régulateur ou OSNP du Service d'Accès aux "
    "Soins, vous réservez des créneaux pour des patients orientés par la régulation, selon les règles de "
    "réservation fixées par le médecin. Vos droits ne valent que lorsque vous arrivez depuis la plateforme SAS.</p>\n";

std::string why_message(std::string_view why) {
  using access::Reason;
  for (Reason r : {Reason::session_expired, Reason::session_invalid, Reason::session_not_from_sas}) {
    if (why == access::to_string(r)) {
      if (r == Reason::session_expired) return "Votre session a expiré : reconnectez-vous.";
      if (r == Reason::session_not_from_sas) {
        return "Votre session n'a pas été ouverte depuis la plateforme SAS : reconnectez-vous depuis ce lien.";
      }
      return "Votre session n'est plus valide : reconnectez-vous.";
    }
  }
  return {};
}

}  // namespace

WebApp::WebApp(WebAppOptions options) : options_(std::move(options)) {}

void WebApp::log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

Response WebApp::handle(const Request& request) {
  try {
    return route(request);
  } catch (const std::exception& e) {
    log("error on " + request.method + " " + request.target + ": " + e.what());
    return html(500, "Erreur", "<p class=\"error\">Erreur interne de l'agenda.</p>\n");
  }
}

Response WebApp::route(const Request& request) {
  std::string_view target = request.target;
  if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  const std::string_view path = target.substr(0, target.find('?'));
  auto segments = path_segments(path);
  if (!segments) return html(400, "Requête invalide", "<p class=\"error\">Chemin invalide.</p>\n");
  const bool get = request.method == "GET", post = request.method == "POST";
  const auto& s = *segments;
  auto not_allowed = [](const char* allow) {
    Response r = html(405, "Méthode non permise", "");
    r.headers.emplace_back("Allow", allow);
    return r;
  };

  if (s.empty()) {
    if (!get) return not_allowed("GET");
    AgendaStore db(options_.agenda);
    return index(db);
  }
  if (s.size() == 1 && s[0] == "login") {
    if (!get && !post) return not_allowed("GET, POST");
    return login(request);
  }
  if (s.size() == 1 && s[0] == "terms") {
    if (!get && !post) return not_allowed("GET, POST");
    return terms(request);
  }
  if (s.size() == 1 && s[0] == "logout") {
    if (!post) return not_allowed("POST");
    return logout(request);
  }
  if (s.size() == 3 && s[0] == "rdv") {
    if (!get) return not_allowed("GET");
    return booking_page(request, s[1], s[2]);
  }
  if (s.size() == 4 && s[0] == "rdv" && s[3] == "book") {
    if (!post) return not_allowed("POST");
    return book(request, s[1], s[2]);
  }
  if (s.size() == 1 && s[0] == "consultations") {
    if (!get) return not_allowed("GET");
    AgendaStore db(options_.agenda);
    return consultations(db);
  }
  if (s.size() == 3 && s[0] == "medecin" && s[2] == "sas") {
    if (!get) return not_allowed("GET");
    AgendaStore db(options_.agenda);
    return sas_panel(db, s[1]);
  }
  if (s.size() == 3 && s[0] == "consultations" && s[2] == "honour") {
    if (!post) return not_allowed("POST");
    return honour(request, s[1]);
  }
  return html(404, "Page introuvable", "<p>Cette page n'existe pas.</p>\n");
}

// The doctor's side. This sample has no doctor login: the page stands for the doctor's own
// screen in the vendor's software (loopback development only, like the whole sample).
Response WebApp::consultations(AgendaStore& db) {
  std::string body =
      "<p>Rendez-vous d'origine SAS. Une fois le patient vu, marquez le rendez-vous honoré : la consultation est "
      "déclarée à l'hôte SAS, qui renvoie le code à facturer (SNP avec l'indicateur de parcours U, MRT, ou "
      "aucun) et ses raisons.</p>\n<table id=\"sas-appointments\">\n";
  for (const auto& a : db.sas_appointments(200)) {
    body += "<tr id=\"appointment-" + html_escape(a.id) + "\" data-status=\"" + html_escape(a.status) + "\"";
    if (a.code) {
      body += " data-code=\"" + html_escape(*a.code) + "\" data-parcours=\"" + html_escape(a.parcours_indicator) +
              "\" data-amount-cents=\"" + std::to_string(a.amount_cents) + "\"";
    }
    body += "><td>" + html_escape(a.practitioner_name) + "</td><td>" +
            html_escape(sas::sdk::datetime::format_paris(sas::sdk::datetime::Instant(std::chrono::seconds(a.start_utc)),
                                                         false)) +
            "</td><td>" + html_escape(a.status) + "</td><td>";
    if (a.status == "booked") {
      body += "<form id=\"honour-" + html_escape(a.id) + "\" method=\"post\" action=\"/consultations/" +
              html_escape(url_encode(a.id)) +
              "/honour\"><label><input type=\"checkbox\" name=\"medecin_traitant\" value=\"1\"> médecin traitant du "
              "patient</label> <label><input type=\"checkbox\" name=\"opposable\" value=\"1\" checked> tarif "
              "opposable</label> <label>autres codes <input name=\"codes\" value=\"G\"></label> <button "
              "type=\"submit\">Honoré : déclarer la consultation</button></form>";
    } else if (a.code) {
      const std::string code = a.code->empty() ? "aucune majoration" : *a.code;
      body += "<strong>" + html_escape(code) + (a.parcours_indicator.empty() ? "" : " + " + a.parcours_indicator) +
              "</strong> <pre>" + html_escape(a.reasons_fr) + "</pre>";
    } else if (a.report_error) {
      body += "refusé par l'hôte : " + html_escape(*a.report_error);
    } else if (a.consultation) {
      body += "consultation déclarée, en attente de la décision de l'hôte";
    }
    body += "</td></tr>\n";
  }
  return html(200, "Consultations SAS", body + "</table>\n");
}

// The doctor's SAS options, rules, consultations and forfait: sas-host's panel in an iframe. The
// token is minted here, server-side, for this doctor only and for a few minutes, and travels in
// the iframe URL's fragment, which the browser never sends to a server. Like /consultations,
// this page stands for the logged-in doctor's screen: in a real agenda the practitioner comes
// from the doctor's own session, never from the URL.
Response WebApp::sas_panel(AgendaStore& db, const std::string& practitioner_id) {
  if (options_.panel_key.empty()) {
    return html(404, "Espace SAS non configuré",
                "<p>Démarrez l'agenda avec <code>--panel-key-file</code> et <code>--panel-admin-base</code> pour "
                "afficher l'espace SAS du médecin.</p>\n");
  }
  auto practitioner = db.practitioner(practitioner_id);
  if (!practitioner) return html(404, "Médecin inconnu", "<p>Ce médecin n'existe pas dans l'agenda.</p>\n");
  namespace panel = sas::sdk::panel_token;
  // Who acts, as the host records it (changed_by): the agenda's account, not a name.
  const auto claims =
      panel::claims_for("agenda:medecin-" + practitioner->id, practitioner->national_id, options_.panel_token_lifetime);
  const std::string src =
      options_.panel_admin_base + "/panel/#token=" + panel::mint_panel_token(options_.panel_key, claims);
  Response r = html(200, "Mon espace SAS",
                    "<p>Dr " + html_escape(practitioner->name) +
                        " : votre participation au Service d'accès aux soins, vos créneaux pour le SAS, vos "
                        "consultations SAS et le forfait structure.</p>\n<iframe id=\"sas-panel\" title=\"Mon espace "
                        "SAS\" src=\"" +
                        html_escape(src) +
                        "\" width=\"100%\" height=\"900\"></iframe>\n<p><a href=\"/\">Retour à l'agenda</a></p>\n");
  // This page may frame the host's panel, and nothing else.
  for (auto& [name, value] : r.headers) {
    if (name == "Content-Security-Policy") {
      value = "default-src 'none'; style-src 'unsafe-inline'; frame-src " + options_.panel_admin_base +
              "/panel/; form-action 'self'; frame-ancestors 'none'";
    }
  }
  log("SAS panel opened for practitioner " + practitioner->id);
  return r;
}

Response WebApp::honour(const Request& request, const std::string& appointment) {
  auto form = parse_form(request.body);
  ConsultationInput input;
  input.consulted_at = seconds(Clock::now());
  if (auto when = first(form, "consulted_at"); when && !when->empty()) {
    std::string error;
    auto t = sas::sdk::datetime::parse_fhir(*when, &error);
    if (!t) return html(400, "Date invalide", "<p class=\"error\">consulted_at : " + html_escape(error) + "</p>\n");
    input.consulted_at = std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
  }
  input.medecin_traitant = first(form, "medecin_traitant").value_or("") == "1";
  input.opposable_tariff = first(form, "opposable").value_or("") == "1";
  input.other_codes = first(form, "codes").value_or("");
  for (char& ch : input.other_codes) {
    if (ch == ' ') ch = ',';
  }
  AgendaStore db(options_.agenda);
  const std::string error = db.honour(appointment, input);
  if (!error.empty())
    return html(409, "Rendez-vous non modifié", "<p class=\"error\">" + html_escape(error) + "</p>\n");
  log("SAS appointment " + appointment + " honoured; consultation recorded for the plugin to report");
  return consultations(db);
}

WebApp::Context WebApp::evaluate(const Request& request, AgendaStore& db, Clock::time_point now) {
  Context c;
  c.origin = access::check_origin_target(request.target);
  if (auto header = request.header("Cookie")) c.session_id = cookie_value(*header, kSessionCookie);
  if (c.session_id) c.session = sessions_.find(*c.session_id);

  access::Session session;
  std::optional<access::Account> account;
  if (c.session) {
    session.account_id = c.session->account_id;
    session.created_at = c.session->created_at;
    session.expires_at = c.session->expires_at;
    session.opened_through_sas = c.session->opened_through_sas;
    // Read the account now, on every request: a deactivation ends its rights at once.
    c.account = db.account(c.session->account_id);
    if (c.account) {
      // Every account of this sample is a SAS regulator account (the regulator_account table).
      account = access::Account{c.account->active, true, c.account->terms_accepted_at.has_value()};
    }
    c.logged_in = c.account && c.account->active && c.session->created_at <= now && now < c.session->expires_at;
  }
  c.decision = access::decide(c.origin, session, account, now);
  using access::Reason;
  const Reason r = c.decision.reason;
  c.end_session =
      c.session && (r == Reason::session_expired || r == Reason::session_invalid || r == Reason::account_missing ||
                    r == Reason::account_inactive || (c.origin.origin != access::Origin::sas && !c.logged_in));
  if (c.end_session) sessions_.erase(*c.session_id);
  if (c.decision.access != access::Access::regulator) {
    log(request.method + " " + request.target + ": " + std::string(access::to_string(c.decision.access)) + " (" +
        std::string(access::to_string(r)) + ")");
  }
  return c;
}

Response WebApp::not_granted(const Context& c, const std::string& return_path) {
  using access::Access;
  Response r;
  switch (c.decision.access) {
    case Access::accept_terms:
      r = redirect("/terms?" + std::string(access::kOriginParameter) + "&return=" + url_encode(return_path));
      break;
    case Access::login:
      // Keep origin=sas through the login, so that logging in from the SAS link opens a SAS session.
      r = redirect(login_url(true, return_path,
                             c.decision.reason == access::Reason::not_logged_in
                                 ? std::string_view()
                                 : access::to_string(c.decision.reason)));
      break;
    case Access::refused:
      r = html(c.decision.reason == access::Reason::invalid_origin ? 400 : 403, "Accès refusé",
               "<div id=\"refused\" class=\"error\"><p>" + html_escape(c.decision.message) +
                   "</p></div>\n<p><a href=\"/\">Retour à l'agenda</a></p>\n");
      break;
    case Access::ordinary_user:
      if (!c.logged_in) {
        r = redirect(login_url(false, return_path));
      } else {
        r = html(403, "Pas de droits de régulateur",
                 "<div id=\"no-regulator-rights\"><p>Vous êtes connecté, mais cette page n'a pas été ouverte depuis "
                 "la plateforme SAS (paramètre <code>origin=sas</code> absent) : votre compte n'a ici aucun droit "
                 "de régulateur SAS.</p><p>Ouvrez le lien de réservation depuis sas.sante.fr.</p></div>\n");
      }
      break;
    case Access::regulator:
      r = html(500, "Erreur", "");
      break;
  }
  if (c.end_session) r = with_cookie(std::move(r), cleared_cookie());
  return r;
}

Response WebApp::index(AgendaStore& db) {
  std::string body =
      "<p>Agenda d'exemple. Les régulateurs SAS arrivent sur la page de réservation d'un lieu depuis "
      "sas.sante.fr, avec <code>origin=sas</code>.</p>\n<ul>\n";
  for (const auto& place : db.places(200)) {
    const std::string link = "/rdv/" + url_encode(place.practitioner_id) + "/" + url_encode(place.place_id);
    body += "<li><a href=\"" + html_escape(link) + "\">Dr " + html_escape(place.practitioner_name) + ", " +
            html_escape(place.city) + "</a></li>\n";
  }
  body += "</ul>\n";
  if (!options_.panel_key.empty()) {
    body += "<h2>Espace SAS des médecins</h2>\n<ul>\n";
    std::string last;
    for (const auto& place : db.places(200)) {
      if (place.practitioner_id == last) continue;
      last = place.practitioner_id;
      body += "<li><a href=\"/medecin/" + html_escape(url_encode(place.practitioner_id)) + "/sas\">Dr " +
              html_escape(place.practitioner_name) + "</a></li>\n";
    }
    body += "</ul>\n";
  }
  return html(200, "Agenda d'exemple", body);
}

Response WebApp::booking_page(const Request& request, const std::string& practitioner, const std::string& place_id) {
  const auto now = Clock::now();
  AgendaStore db(options_.agenda);
  const std::string self = "/rdv/" + url_encode(practitioner) + "/" + url_encode(place_id);
  Context c = evaluate(request, db, now);
  if (!c.decision.regulator_rights()) return not_granted(c, self);

  auto place = db.place(practitioner, place_id);
  if (!place) return html(404, "Lieu inconnu", "<p>Ce praticien ou ce lieu n'existe pas dans l'agenda.</p>\n");
  auto slots = db.bookable_slots(place_id, seconds(now), 200);
  std::string body = place_header(*place);
  body += "<p id=\"regulator\">Connecté en tant que régulateur SAS : " + html_escape(c.account->given_names) + " " +
          html_escape(c.account->family_name) + "</p>\n";
  if (slots.empty()) {
    body += "<p id=\"no-slot\">Aucun créneau libre.</p>\n";
  } else {
    body += "<form id=\"regulator-booking\" method=\"post\" action=\"" +
            html_escape(with_origin(self + "/book", true)) + "\">\n" + csrf_field(c.session->csrf_token) +
            "\n<fieldset><legend>Créneaux libres</legend>\n";
    for (const auto& slot : slots) {
      std::string motives = slot.motives;
      for (char& ch : motives) {
        if (ch == '\n') ch = ',';
      }
      body += "<label><input type=\"radio\" name=\"slot_id\" value=\"" + std::to_string(slot.id) + "\" required> " +
              paris_time(slot.start_utc) + " &ndash; " + paris_time(slot.end_utc).substr(11) + " (" +
              html_escape(slot.modes) + (motives.empty() ? "" : "; " + html_escape(motives)) + ")</label>\n";
    }
    body +=
        "</fieldset>\n<label>Patient (nom, prénom) <input name=\"patient\" required maxlength=\"200\"></label>\n"
        "<button type=\"submit\">Réserver pour le patient</button>\n</form>\n";
  }
  body += "<form method=\"post\" action=\"/logout\"><button type=\"submit\">Se déconnecter</button></form>\n";
  return html(200, "Réservation SAS", body);
}

Response WebApp::book(const Request& request, const std::string& practitioner, const std::string& place_id) {
  const auto now = Clock::now();
  AgendaStore db(options_.agenda);
  const std::string self = "/rdv/" + url_encode(practitioner) + "/" + url_encode(place_id);
  Context c = evaluate(request, db, now);
  if (!c.decision.regulator_rights()) return not_granted(c, self);

  auto form = parse_form(request.body);
  if (!same_token(first(form, "csrf"), c.session->csrf_token)) {
    return html(403, "Formulaire refusé",
                "<div id=\"refused\" class=\"error\"><p>Ce formulaire n'est pas valide pour votre session : "
                "rouvrez la page de réservation.</p></div>\n");
  }
  auto place = db.place(practitioner, place_id);
  if (!place) return html(404, "Lieu inconnu", "<p>Ce praticien ou ce lieu n'existe pas dans l'agenda.</p>\n");
  int64_t slot_id = 0;
  auto slot_text = first(form, "slot_id");
  try {
    std::size_t used = 0;
    slot_id = slot_text ? std::stoll(*slot_text, &used) : 0;
    if (!slot_text || used != slot_text->size()) slot_id = 0;
  } catch (const std::exception&) {
    slot_id = 0;
  }
  std::string patient = first(form, "patient").value_or("");
  while (!patient.empty() && (patient.back() == ' ' || patient.back() == '\t')) patient.pop_back();
  while (!patient.empty() && (patient.front() == ' ' || patient.front() == '\t')) patient.erase(0, 1);
  const std::string back = "<p><a href=\"" + html_escape(with_origin(self, true)) + "\">Retour aux créneaux</a></p>\n";
  if (slot_id <= 0 || patient.empty() || patient.size() > 200) {
    return html(400, "Réservation incomplète",
                "<p class=\"error\">Choisissez un créneau et indiquez le patient.</p>\n" + back);
  }

  auto outcome = db.book_as_regulator(slot_id, place_id, *c.account, patient, seconds(now));
  if (!outcome.booked) {
    return html(409, "Créneau indisponible", "<p class=\"error\">" + html_escape(outcome.error) + "</p>\n" + back);
  }
  log("SAS booking " + outcome.appointment_id + " slot " + std::to_string(slot_id) + " by " + outcome.regulator.system +
      "|" + outcome.regulator.value);
  std::string body = place_header(*place);
  body += "<div id=\"booked\" data-appointment=\"" + html_escape(outcome.appointment_id) +
          "\" data-regulator-system=\"" + html_escape(outcome.regulator.system) + "\" data-regulator-value=\"" +
          html_escape(outcome.regulator.value) + "\"><p>Rendez-vous réservé (origine SAS) pour " +
          html_escape(patient) + ".</p><p>Référence : " + html_escape(outcome.appointment_id) +
          "</p><p>Régulateur : " + html_escape(outcome.regulator.value) + " (" + html_escape(outcome.regulator.system) +
          ")</p></div>\n" + back;
  return html(200, "Rendez-vous réservé", body);
}

Response WebApp::login(const Request& request) {
  const auto now = Clock::now();
  auto origin = access::check_origin_target(request.target);
  if (origin.origin == access::Origin::invalid) {
    return html(400, "Accès refusé",
                "<div id=\"refused\" class=\"error\"><p>" + html_escape(origin.reason) + "</p></div>\n");
  }
  const bool sas = origin.through_sas();
  std::string_view target = request.target;
  auto question = target.find('?');
  auto query = parse_form(question == std::string_view::npos ? std::string_view() : target.substr(question + 1));
  const std::string return_path = safe_return(first(query, "return"));

  auto form_page = [&](int status, const std::string& message) {
    std::string body;
    if (!message.empty()) body += "<p class=\"error\" id=\"login-error\">" + html_escape(message) + "</p>\n";
    body += sas ? "<p id=\"login-sas\">Connexion d'un régulateur arrivant depuis la plateforme SAS.</p>\n"
                : "<p id=\"login-ordinary\">Connexion sans droits de régulateur SAS : les régulateurs ouvrent le lien "
                  "de réservation depuis sas.sante.fr.</p>\n";
    body += "<form id=\"login\" method=\"post\" action=\"" + html_escape(login_url(sas, return_path)) +
            "\">\n<label>E-mail <input type=\"email\" name=\"email\" required autocomplete=\"username\"></label>\n"
            "<label>Mot de passe <input type=\"password\" name=\"password\" required "
            "autocomplete=\"current-password\"></label>\n<button type=\"submit\">Se connecter</button>\n</form>\n";
    return html(status, "Connexion", body);
  };

  if (request.method == "GET") return form_page(200, why_message(first(query, "why").value_or("")));

  AgendaStore db(options_.agenda);
  auto form = parse_form(request.body);
  const std::string email = first(form, "email").value_or("");
  const std::string password = first(form, "password").value_or("");
  auto candidates = db.accounts_by_email(email);
  std::vector<RegulatorAccountRow> matched;
  for (auto& account : candidates) {
    if (account.password_hash && verify_password(password, *account.password_hash)) matched.push_back(account);
  }
  if (candidates.empty()) {
    // Same work for an unknown e-mail: the answer time does not tell which accounts exist.
    static const std::string dummy = hash_password("not a password");
    verify_password(password, dummy);
  }
  std::vector<RegulatorAccountRow> active;
  for (auto& account : matched) {
    if (account.active) active.push_back(account);
  }
  if (matched.empty() || active.size() > 1) {
    log("login failed for '" + printable(email) + "'");
    return form_page(401, "E-mail ou mot de passe incorrect.");
  }
  if (active.empty()) {
    log("login refused for inactive account " + matched.front().id);
    return html(403, "Accès refusé",
                "<div id=\"refused\" class=\"error\"><p>L'habilitation de régulateur SAS de ce compte a été "
                "retirée.</p></div>\n");
  }

  // A new session id at every login (no fixation); the old session, if any, ends.
  if (auto header = request.header("Cookie")) {
    if (auto old = cookie_value(*header, kSessionCookie)) sessions_.erase(*old);
  }
  SessionRecord record;
  record.account_id = active.front().id;
  record.created_at = now;
  record.expires_at = now + options_.session_lifetime;
  record.opened_through_sas = sas;
  record.csrf_token = random_hex(16);
  const std::string id = sessions_.create(std::move(record));
  log("login " + active.front().id + (sas ? " through SAS" : " (not through SAS)"));
  return with_cookie(redirect(with_origin(return_path, sas && return_path != "/")), session_cookie(id));
}

Response WebApp::terms(const Request& request) {
  const auto now = Clock::now();
  AgendaStore db(options_.agenda);
  std::string_view target = request.target;
  auto question = target.find('?');
  auto query = parse_form(question == std::string_view::npos ? std::string_view() : target.substr(question + 1));
  const std::string return_path = safe_return(first(query, "return"));
  Context c = evaluate(request, db, now);
  if (c.decision.regulator_rights()) return redirect(with_origin(return_path, return_path != "/"));
  if (c.decision.access != access::Access::accept_terms) return not_granted(c, return_path);

  const std::string self = "/terms?" + std::string(access::kOriginParameter) + "&return=" + url_encode(return_path);
  std::string error;
  if (request.method == "POST") {
    auto form = parse_form(request.body);
    if (!same_token(first(form, "csrf"), c.session->csrf_token)) {
      return html(
          403, "Formulaire refusé",
          "<div id=\"refused\" class=\"error\"><p>Ce formulaire n'est pas valide pour votre session.</p></div>\n");
    }
    if (first(form, "accept") == "yes") {
      db.accept_terms(c.account->id, seconds(now));
      log("terms accepted by " + c.account->id);
      return redirect(with_origin(return_path, return_path != "/"));
    }
    error = "<p class=\"error\">Cochez la case pour accepter les conditions.</p>\n";
  }
  return html(error.empty() ? 200 : 400, "Conditions d'utilisation",
              error + kTermsText + "<form id=\"terms\" method=\"post\" action=\"" + html_escape(self) + "\">\n" +
                  csrf_field(c.session->csrf_token) +
                  "\n<label><input type=\"checkbox\" name=\"accept\" value=\"yes\" required> J'accepte les "
                  "conditions d'utilisation</label>\n<button type=\"submit\">Continuer</button>\n</form>\n");
}

Response WebApp::logout(const Request& request) {
  if (auto header = request.header("Cookie")) {
    if (auto id = cookie_value(*header, kSessionCookie)) sessions_.erase(*id);
  }
  return with_cookie(redirect("/"), cleared_cookie());
}

}  // namespace sas::sample::agenda_web
