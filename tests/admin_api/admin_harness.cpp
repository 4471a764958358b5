#include "admin_harness.hpp"
#include <sas_test/host_log.hpp>

#include <sys/stat.h>

#include <chrono>
#include <regex>
#include <stdexcept>
#include <thread>

#include "sas/pki/test_pki.hpp"

namespace sas::admin_test {

using namespace std::chrono_literals;

namespace {

std::string prefixed(const std::string& national_id) {
  if (national_id.size() == 11) return "8" + national_id;
  if (national_id.size() == 9) return "0" + national_id;
  return national_id;
}

}  // namespace

World::World() : work_(sas::test::make_temp_dir("admin-api")), pki_(work_ / "pki") {
  sas::pki::write_test_pki(pki_);
  sas::pki::issue_certificate(pki_, "admin", {"backoffice", "ADMIN", false, {}, {}});
  auto gen = sas::test::run({sas::test::bin("sas-sim").string(), "gen-agenda", "--out", agenda().string(),
                             "--practitioners", "6", "--days", "3", "--seed", "11"});
  if (gen.exit_code != 0) throw std::runtime_error("gen-agenda failed: " + gen.err);
  token_ = "t0k3n-" + std::string(40, 'x') + "-admin";
  sas::test::write_file(token_file(), token_ + "\n");
  ::chmod(token_file().c_str(), 0600);
}

World::~World() {
  stop_host();
  std::error_code ec;
  fs::remove_all(work_, ec);
}

std::vector<std::string> World::serve_arguments() const {
  std::vector<std::string> argv = {sas::test::bin("sas-host").string(),
                                   "serve",
                                   "--plugin",
                                   sas::test::plugin("sas-sqlite-agenda").string(),
                                   "--plugin-config",
                                   "db=" + agenda().string(),
                                   "--store",
                                   "sqlite:" + store().string(),
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--tls-cert",
                                   pki("server.pem").string(),
                                   "--tls-key",
                                   pki("server-key.pem").string(),
                                   "--client-ca",
                                   pki("ca.pem").string(),
                                   "--allow-client-subject",
                                   "CN=sas.sante.fr,OU=SAS",
                                   "--admin-listen",
                                   "127.0.0.1:0"};
  // Right after "serve": callers append to the end, and one test trims the last two.
  const auto isolation = sas::test::plugin_isolation_args();
  argv.insert(argv.begin() + 2, isolation.begin(), isolation.end());
  return argv;
}

void World::start_host(const std::vector<std::string>& admin_extra, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = serve_arguments();
  if (admin_extra.empty()) {
    argv.insert(argv.end(),
                {"--admin-token-file", token_file().string(), "--admin-allow-client-subject", kAdminSubject});
  } else {
    argv.insert(argv.end(), admin_extra.begin(), admin_extra.end());
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  host_ = std::make_unique<sas::test::ChildProcess>(argv);
  for (int i = 0; i < 1500; ++i) {
    if (const uint16_t port = sas::test::listening_port(host_->output(), "admin"); port != 0) {
      admin_port_ = port;
      sas::test::expect_plugin_isolation(*host_);
      return;
    }
    if (!host_->running()) break;
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error("sas-host serve did not start its admin API:\n" + host_->output());
}

void World::stop_host() {
  if (host_) host_->stop();
  host_.reset();
}

sas::host::admin_api::ClientAnswer World::call(const std::string& method, const std::string& path,
                                               const std::string& body, const std::string& token,
                                               const std::string& cert) const {
  sas::host::admin_api::ClientOptions options;
  options.base = admin_base();
  options.token = token == "\x01" ? token_ : token;
  options.ca_file = pki("ca.pem").string();
  if (!cert.empty()) {
    options.cert_file = pki(cert + ".pem").string();
    options.key_file = pki(cert + "-key.pem").string();
  }
  options.timeout = 15s;
  return sas::host::admin_api::request(options, method, path, body);
}

boost::json::value World::json(const sas::host::admin_api::ClientAnswer& answer) const {
  boost::system::error_code ec;
  auto value = boost::json::parse(answer.body, ec);
  if (ec) throw std::runtime_error("not JSON (" + std::to_string(answer.status) + "): " + answer.body);
  return value;
}

AgendaSlot World::free_slot() const {
  auto rows = sas::test::sqlite_rows(agenda(),
                                     "SELECT s.id, p.national_id, s.start_utc FROM slot s JOIN place pl ON "
                                     "pl.id = s.place_id JOIN practitioner p ON p.id = pl.practitioner_id "
                                     "WHERE s.status = 'free' AND s.start_utc > strftime('%s','now') + 3600 "
                                     "ORDER BY s.start_utc, s.id LIMIT 1");
  if (rows.empty()) throw std::runtime_error("the generated agenda has no free slot");
  return {rows[0][0], prefixed(rows[0][1]), std::stoll(rows[0][2])};
}

std::string World::practitioner(int n) const {
  auto rows = sas::test::sqlite_rows(
      agenda(), "SELECT national_id FROM practitioner WHERE length(national_id) IN (11, 12) ORDER BY id");
  return prefixed(rows.at(static_cast<std::size_t>(n)).at(0));
}

}  // namespace sas::admin_test
