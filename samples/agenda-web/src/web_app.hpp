// The sample agenda's web pages: the booking page a slot's `comment` URL leads to, login, first
// login terms, and booking by a SAS regulator arriving with origin=sas. Server-rendered HTML
// over the host's HTTP server; every access decision comes from sas/sdk/regulator_access.hpp.
//
//   GET  /                       places of the agenda, with their booking links
//   GET  /rdv/PRACTITIONER/PLACE  booking page (regulator form only with regulator rights)
//   POST /rdv/PRACTITIONER/PLACE/book?origin=sas   slot_id, patient, csrf
//   GET|POST /login?[origin=sas&]return=PATH       email, password
//   GET|POST /terms?origin=sas&return=PATH         accept=yes, csrf
//   POST /logout
//   GET  /consultations           the doctor's side: SAS-origin appointments and their billing codes
//   POST /consultations/APPOINTMENT/honour   consulted_at (optional), medecin_traitant, opposable, codes
//   GET  /medecin/PRACTITIONER/sas  the doctor's SAS panel (sas-host's /panel/) in an iframe, with a
//                                 short-lived panel token minted here (docs/doctor-panel.md)
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <sas/host/server/https_server.hpp>
#include <string_view>

#include "sessions.hpp"

namespace sas::sample::agenda_web {

class AgendaStore;

inline constexpr std::string_view kSessionCookie = "sas_sample_session";

struct WebAppOptions {
  std::filesystem::path agenda;                 // an agenda file in the sqlite-agenda schema
  std::chrono::seconds session_lifetime{1800};  // from login; never extended
  std::function<void(std::string_view)> log;    // one line per notable event (may be empty)
  // The doctor's SAS panel: the key shared with sas-host (panel-key-file) and the host's
  // admin listener as the browser reaches it ("https://HOST:PORT"). Empty key: no panel page.
  std::string panel_key;
  std::string panel_admin_base;
  std::chrono::seconds panel_token_lifetime{900};
};

class WebApp {
 public:
  explicit WebApp(WebAppOptions options);
  // Thread-safe: called concurrently from the server's workers.
  sas::host::server::Response handle(const sas::host::server::Request& request);

 private:
  struct Context;
  sas::host::server::Response route(const sas::host::server::Request& request);
  Context evaluate(const sas::host::server::Request& request, AgendaStore& db,
                   std::chrono::system_clock::time_point now);
  sas::host::server::Response not_granted(const Context& context, const std::string& return_path);
  sas::host::server::Response index(AgendaStore& db);
  sas::host::server::Response booking_page(const sas::host::server::Request& request, const std::string& practitioner,
                                           const std::string& place);
  sas::host::server::Response book(const sas::host::server::Request& request, const std::string& practitioner,
                                   const std::string& place);
  sas::host::server::Response login(const sas::host::server::Request& request);
  sas::host::server::Response terms(const sas::host::server::Request& request);
  sas::host::server::Response logout(const sas::host::server::Request& request);
  sas::host::server::Response consultations(AgendaStore& db);
  sas::host::server::Response honour(const sas::host::server::Request& request, const std::string& appointment);
  sas::host::server::Response sas_panel(AgendaStore& db, const std::string& practitioner);
  void log(const std::string& line) const;

  WebAppOptions options_;
  SessionStore sessions_;
};

}  // namespace sas::sample::agenda_web
