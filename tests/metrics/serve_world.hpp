// The real `sas-host serve` with its admin listener, for the tests that read its /metrics
// (tests/metrics, tests/server): the e2e harness, the admin client, the exposition reader.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <memory>
#include <optional>
#include <sas/host/admin_api/admin_client.hpp>
#include <sas_test/host_log.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agenda.hpp"
#include "agenda_db.hpp"
#include "e2e_support.hpp"
#include "exposition.hpp"

namespace sas::metrics_test {

namespace fs = std::filesystem;

// A private token file (mode 600), as serve requires.
inline fs::path token_file(const fs::path& dir, const std::string& name, const std::string& token) {
  const fs::path file = dir / name;
  sas::test::write_file(file, token + "\n");
  ::chmod(file.c_str(), 0600);
  return file;
}

// The admin listener's port, from the host's log.
inline uint16_t admin_port(sas::e2e::Host& host) {
  for (int i = 0; i < 1000; ++i) {
    if (const uint16_t port = sas::test::listening_port(host.output(), "admin"); port != 0) return port;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("no admin listener:\n" + host.output());
}

struct WorldOptions {
  std::string store;                         // --store URL; "" = a new SQLite file
  std::vector<std::string> extra_arguments;  // more serve arguments
  // Writes the PKI into the directory given; none: sas::e2e::write_pki.
  std::function<void(const fs::path&)> write_pki;
};

// The real `sas-host serve` over the reference plugin, one doctor's agenda (dr-a, 810100050075,
// one slot on 2026-03-10), mutual TLS from a test PKI, and the admin listener with an admin and
// a metrics token: requests on either listener, and /metrics read back.
class World {
 public:
  explicit World(const std::string& store = "") : World(WorldOptions{store, {}, {}}) {}
  explicit World(const WorldOptions& world_options) : dir_(sas::test::make_temp_dir("metrics-e2e")) {
    if (world_options.write_pki)
      world_options.write_pki(dir_ / "pki");
    else
      sas::e2e::write_pki(dir_ / "pki");
    namespace agenda_of = sas::test::agenda;
    sas::plugin::v1::SearchSlotsResponse agenda;
    agenda_of::practitioner(agenda, "dr-a", "10100050075", "THOMAS", {"Sébastien"});
    agenda_of::place(agenda, "pa1", "dr-a", {"1 rue Mme DELMAS"}, "47000", "AGEN").set_finess("810004421");
    agenda_of::slot(agenda, "a1", "pa1", "2026-03-10T09:00:00+01:00", "2026-03-10T09:30:00+01:00");
    sas::e2e::write_agenda_db(agenda, dir_ / "agenda.db");
    sas::e2e::HostOptions options;
    options.agenda = dir_ / "agenda.db";
    options.pki = dir_ / "pki";
    options.work = dir_;
    options.store = world_options.store;
    options.extra_arguments = {"--admin-listen",       "127.0.0.1:0",
                               "--admin-token-file",   token_file(dir_, "admin.token", admin_token()).string(),
                               "--metrics-token-file", token_file(dir_, "metrics.token", metrics_token()).string()};
    options.extra_arguments.insert(options.extra_arguments.end(), world_options.extra_arguments.begin(),
                                   world_options.extra_arguments.end());
    host_ = std::make_unique<sas::e2e::Host>(options);
    admin_port_ = admin_port(*host_);
  }
  ~World() {
    host_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static std::string admin_token() { return "admin-" + std::string(40, 'a'); }
  static std::string metrics_token() { return "metrics-" + std::string(40, 'm'); }

  sas::e2e::Host& host() { return *host_; }
  const fs::path& dir() const { return dir_; }
  fs::path pki() const { return dir_ / "pki"; }

  // A FHIR request on a fresh connection, with the PKI's certificate `client` (nullopt: none).
  sas::e2e::Response fhir(const std::string& path, const std::optional<std::string>& client = "client",
                          const std::string& method = "GET", const std::optional<std::string>& body = std::nullopt) {
    sas::e2e::Client c(pki());
    sas::e2e::RequestOptions options;
    options.client = client;
    options.method = method;
    options.body = body;
    if (body) options.headers.push_back("Content-Type: application/fhir+json");
    return c.get(host_->origin() + path, options);
  }

  sas::host::admin_api::ClientAnswer admin(const std::string& method, const std::string& path, const std::string& token,
                                           const std::string& body = "") const {
    sas::host::admin_api::ClientOptions options;
    options.base = "https://localhost:" + std::to_string(admin_port_);
    options.token = token;
    options.ca_file = (dir_ / "pki" / "ca.pem").string();
    options.timeout = std::chrono::seconds(15);
    return sas::host::admin_api::request(options, method, path, body);
  }

  Parsed scrape() const {
    const auto answer = admin("GET", "/metrics", metrics_token());
    if (answer.status != 200) throw std::runtime_error("GET /metrics: " + std::to_string(answer.status) + answer.body);
    return parse(answer.body);
  }

 private:
  fs::path dir_;
  std::unique_ptr<sas::e2e::Host> host_;
  uint16_t admin_port_ = 0;
};

inline double requests(const Parsed& p, const std::string& listener, const std::string& route,
                       const std::string& status) {
  return value_of(p, "sas_http_requests_total", {{"listener", listener}, {"route", route}, {"status", status}});
}

inline double handshakes(const Parsed& p, const std::string& reason) {
  return value_of(p, "sas_tls_handshake_failures_total", {{"listener", "fhir"}, {"reason", reason}});
}

}  // namespace sas::metrics_test
