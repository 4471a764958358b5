// sas-sim serve: the SAS platform's side of INT_R03. An Appointment endpoint over mutual TLS
// (the host's own HTTPS server) that validates what it receives against FrAppointmentSAS (or
// sas-sos-appointment, FrAppointmentSASSOS, for a resource that declares it),
// answers like the platform (POST: 201, or 422 when the identifier already exists; conditional
// PUT: 200 for an update, 201 when nothing matched yet (create-or-update); 400 for a malformed
// request, 422 for a non-conformant resource), can be told to fail, and records every request
// in an SQLite file that `sas-sim received` prints.
#include <signal.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <options.hpp>
#include <random>
#include <sas/conformance/profile_validator.hpp>
#include <sas/host/server/https_server.hpp>
#include <sas/sdk/datetime.hpp>
#include <thread>

#include "commands.hpp"

namespace sas::sim::cli {

namespace po = sas::cli::po;
namespace json = boost::json;
namespace server = sas::host::server;

namespace {

constexpr const char* kAppointmentProfile = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS";
constexpr const char* kSosAppointmentProfile =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-appointment";

// The profile a received Appointment is held to. The platform takes both kinds on
// [base]/Appointment (CapabilityStatements SAS-GestionnaireAgenda-RDVpsindiv and -RDVSOS): an
// SOS Médecins appointment declares sas-sos-appointment in meta.profile; anything else is held
// to FrAppointmentSAS, declared or not.
const char* profile_of(const json::object& resource) {
  const auto* meta = resource.if_contains("meta");
  const auto* declared = meta != nullptr && meta->is_object() ? meta->get_object().if_contains("profile") : nullptr;
  if (declared != nullptr && declared->is_array()) {
    for (const auto& p : declared->get_array()) {
      if (p.is_string() && p.get_string() == kSosAppointmentProfile) return kSosAppointmentProfile;
    }
  }
  return kAppointmentProfile;
}

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS received ("
    "  n INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  received_at TEXT NOT NULL,"
    "  method TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  client TEXT NOT NULL,"
    "  identifier TEXT,"       // SYSTEM|VALUE of the resource
    "  resource_status TEXT,"  // the Appointment.status received
    "  http_status INTEGER NOT NULL,"
    "  result TEXT NOT NULL,"  // created | updated | unchanged | duplicate | invalid | failed
    "  body TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS appointment ("
    "  identifier TEXT PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  status TEXT,"
    "  body TEXT NOT NULL);";

std::string outcome(std::string_view code, std::string_view diagnostics) {
  return json::serialize(json::object{
      {"resourceType", "OperationOutcome"},
      {"issue", json::array{json::object{{"severity", "error"}, {"code", code}, {"diagnostics", diagnostics}}}}});
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

class Platform {
 public:
  Platform(const std::string& db_path, std::optional<sas::conformance::ProfileSet> profiles, std::string fail,
           double fail_rate, std::chrono::milliseconds slow)
      : profiles_(std::move(profiles)), fail_(std::move(fail)), fail_rate_(fail_rate), slow_(slow) {
    if (sqlite3_open(db_path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("--db " + db_path + ": cannot open");
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");  // survives a crash of this process; the OS is not at test
    exec(kSchema);
  }
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;
  ~Platform() { sqlite3_close(db_); }

  server::Response handle(const server::Request& request) {
    const bool fail_now = failing();
    if (fail_ == "slow" && failing_last_) std::this_thread::sleep_for(slow_);
    if (fail_now) {
      if (fail_ == "down") return answer(request, {}, "", 503, "failed", outcome("transient", "--fail down"));
      if (fail_ == "5xx") return answer(request, {}, "", 500, "failed", outcome("exception", "--fail 5xx"));
      if (fail_ == "429") {
        auto r = answer(request, {}, "", 429, "failed", outcome("throttled", "--fail 429"));
        r.headers.emplace_back("Retry-After", "1");
        return r;
      }
      if (fail_ == "reject") {
        return answer(request, {}, "", 422, "invalid", outcome("business-rule", "refused by --fail reject"));
      }
    }
    server::Response r = process(request);
    // drop: the request was processed, but the answer comes after the client gave up.
    if (fail_ == "drop" && failing_last_) std::this_thread::sleep_for(slow_);
    return r;
  }

 private:
  bool failing() {
    std::lock_guard lock(mutex_);
    failing_last_ =
        fail_ != "none" && (fail_rate_ >= 1.0 || std::uniform_real_distribution<>(0, 1)(random_) < fail_rate_);
    return failing_last_ && fail_ != "drop" && fail_ != "slow";
  }

  server::Response process(const server::Request& request) {
    const auto q = request.target.find('?');
    const std::string path = request.target.substr(0, q);
    const std::string query = q == std::string::npos ? "" : request.target.substr(q + 1);
    const bool appointment_path = path.size() >= 12 && path.compare(path.size() - 12, 12, "/Appointment") == 0;
    if (!appointment_path) return answer(request, {}, "", 404, "invalid", outcome("not-found", "no such endpoint"));
    if (request.method != "POST" && request.method != "PUT") {
      return answer(request, {}, "", 405, "invalid", outcome("not-supported", "POST or conditional PUT only"));
    }
    std::string addressed;
    if (request.method == "POST" && !query.empty()) {
      return answer(request, {}, "", 400, "invalid", outcome("invalid", "POST takes no query"));
    }
    if (request.method == "PUT") {
      if (query.rfind("identifier=", 0) != 0 || query.find('&') != std::string::npos) {
        return answer(request, {}, "", 400, "invalid",
                      outcome("invalid", "PUT [base]/Appointment?identifier=SYSTEM|ID expected"));
      }
      addressed = percent_decode(query.substr(11));
    }
    boost::system::error_code ec;
    json::value body = json::parse(request.body, ec);
    if (ec || !body.is_object()) {
      return answer(request, {}, "", 400, "invalid", outcome("invalid", "the body is not a JSON object"));
    }
    const json::object& resource = body.get_object();
    const json::value* type = resource.if_contains("resourceType");
    if (type == nullptr || !type->is_string() || type->get_string() != "Appointment") {
      return answer(request, {}, "", 400, "invalid", outcome("invalid", "resourceType must be Appointment"));
    }
    std::string identifier, status;
    if (const auto* ids = resource.if_contains("identifier"); ids && ids->is_array() && ids->get_array().size() == 1) {
      const auto& id = ids->get_array()[0];
      if (id.is_object()) {
        const auto* system = id.get_object().if_contains("system");
        const auto* value = id.get_object().if_contains("value");
        if (system && value && system->is_string() && value->is_string()) {
          identifier = std::string(system->get_string()) + "|" + std::string(value->get_string());
        }
      }
    }
    if (const auto* s = resource.if_contains("status"); s && s->is_string()) status = s->get_string();
    std::vector<std::string> problems;
    if (identifier.empty()) problems.push_back("Appointment.identifier: exactly one, with system and value");
    if (profiles_) {
      for (const auto& issue : profiles_->validate(body, profile_of(resource))) {
        problems.push_back(sas::conformance::to_string(issue));
      }
    }
    if (!problems.empty()) {
      std::string all;
      for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
      return answer(request, identifier, status, 422, "invalid", outcome("invalid", all));
    }
    if (request.method == "PUT" && addressed != identifier) {
      return answer(request, identifier, status, 400, "invalid",
                    outcome("invalid", "the identifier in the URL (" + addressed + ") is not the resource's (" +
                                           identifier + ")"));
    }
    const std::string canonical = json::serialize(body);
    std::lock_guard lock(mutex_);
    std::optional<std::string> existing = current(identifier);
    if (request.method == "POST" && existing) {
      return record(request, identifier, status, 422, "duplicate",
                    outcome("duplicate", "an Appointment with identifier " + identifier + " already exists"));
    }
    std::string result = "created";
    int http = 201;
    if (existing) {
      http = 200;
      result = *existing == canonical ? "unchanged" : "updated";
    }
    // The new state and the log line of its arrival commit together: killed between the two,
    // the simulator would hold a state that `received` never shows (and answer "unchanged" to
    // its retry).
    exec("BEGIN IMMEDIATE");
    server::Response r;
    try {
      if (result != "unchanged") store(identifier, status, canonical);
      r = record(request, identifier, status, http, result, canonical);
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    if (http == 201) r.headers.emplace_back("Location", "Appointment/" + std::to_string(last_n_));
    return r;
  }

  server::Response answer(const server::Request& request, const std::string& identifier, const std::string& status,
                          int http, const std::string& result, const std::string& body) {
    std::lock_guard lock(mutex_);
    return record(request, identifier, status, http, result, body);
  }

  // Under mutex_.
  server::Response record(const server::Request& request, const std::string& identifier, const std::string& status,
                          int http, const std::string& result, const std::string& response_body) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_,
                       "INSERT INTO received (received_at, method, target, client, identifier, resource_status, "
                       "http_status, result, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       -1, &s, nullptr);
    const std::string now =
        sas::sdk::datetime::format_utc(std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()));
    const std::string client = "CN=" + request.client.cn + ",OU=" + request.client.ou;
    sqlite3_bind_text(s, 1, now.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, request.method.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, request.target.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, client.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, identifier.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, status.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 7, http);
    sqlite3_bind_text(s, 8, result.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 9, request.body.c_str(), static_cast<int>(request.body.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("--db: ") + sqlite3_errmsg(db_));
    last_n_ = sqlite3_last_insert_rowid(db_);
    server::Response r;
    r.status = http;
    r.body = response_body;
    return r;
  }

  std::optional<std::string> current(const std::string& identifier) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, "SELECT body FROM appointment WHERE identifier = ?", -1, &s, nullptr);
    sqlite3_bind_text(s, 1, identifier.c_str(), -1, SQLITE_TRANSIENT);
    std::optional<std::string> body;
    if (sqlite3_step(s) == SQLITE_ROW) body = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return body;
  }

  void store(const std::string& identifier, const std::string& status, const std::string& body) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_,
                       "INSERT INTO appointment (identifier, version, status, body) VALUES (?1, 1, ?2, ?3) "
                       "ON CONFLICT(identifier) DO UPDATE SET version = version + 1, status = ?2, body = ?3",
                       -1, &s, nullptr);
    sqlite3_bind_text(s, 1, identifier.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, status.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, body.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(s);
    sqlite3_finalize(s);
  }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error("--db: " + message);
    }
  }

  sqlite3* db_ = nullptr;
  std::optional<sas::conformance::ProfileSet> profiles_;
  std::string fail_;
  double fail_rate_;
  std::chrono::milliseconds slow_;
  std::mutex mutex_;
  std::mt19937 random_{std::random_device{}()};
  thread_local static bool failing_last_;
  int64_t last_n_ = 0;
};

thread_local bool Platform::failing_last_ = false;

std::pair<std::string, uint16_t> split_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) throw po::error("--listen '" + listen + "': expected HOST:PORT");
  const unsigned long port = std::stoul(listen.substr(colon + 1));
  if (port > 65535) throw po::error("--listen '" + listen + "': bad port");
  return {listen.substr(0, colon), static_cast<uint16_t>(port)};
}

}  // namespace

int serve(const std::vector<std::string>& args) {
  po::options_description options("serve options");
  options.add_options()("listen", po::value<std::string>()->default_value("127.0.0.1:9443"), "HOST:PORT")(
      "tls-cert", po::value<std::string>()->required(), "server certificate chain (PEM)")(
      "tls-key", po::value<std::string>()->required(), "its private key (PEM)")(
      "client-ca", po::value<std::string>()->required(), "CA bundle for the vendors' client certificates (PEM)")(
      "allow-client-subject", po::value<std::vector<std::string>>()->composing(),
      "allowed vendor client subject, e.g. CN=vendor.example.fr,OU=VENDOR (repeatable; default: "
      "CN=localhost,OU=VENDOR, the vendor certificate the tests issue from the test PKI's CA)")(
      "db", po::value<std::string>()->required(), "SQLite file recording what arrives")(
      "ig", po::value<std::string>(),
      "the SAS IG package directory: validate against FrAppointmentSAS (sas-sos-appointment for a resource "
      "declaring it)")(
      "fail", po::value<std::string>()->default_value("none"),
      "none | down (503) | 5xx (500) | 429 | reject (422) | slow (answer after --slow-ms) | drop (process, then "
      "answer after --slow-ms, when the client has given up)")("fail-rate", po::value<double>()->default_value(1.0),
                                                               "fraction of requests that fail (0 to 1)")(
      "slow-ms", po::value<unsigned>()->default_value(3000), "delay of --fail slow and drop");
  int exit_code = 0;
  auto vm = sas::cli::parse_options("sas-sim serve",
                                    "--listen HOST:PORT --tls-cert F --tls-key F --client-ca F --db FILE [--fail MODE]",
                                    options, args, exit_code);
  if (!vm) return exit_code;
  const auto& v = *vm;
  const std::string fail = v["fail"].as<std::string>();
  if (fail != "none" && fail != "down" && fail != "5xx" && fail != "429" && fail != "reject" && fail != "slow" &&
      fail != "drop") {
    std::cerr << "sas-sim serve: --fail " << fail << ": expected none, down, 5xx, 429, reject, slow or drop\n";
    return 2;
  }
  std::optional<sas::conformance::ProfileSet> profiles;
  if (v.count("ig") != 0U) {
    profiles = sas::conformance::ProfileSet::load(v["ig"].as<std::string>());
  } else {
    std::cerr << "sas-sim serve: no --ig: resources are not validated against the IG's profiles" << std::endl;
  }
  server::ServerConfig config;
  std::tie(config.host, config.port) = split_listen(v["listen"].as<std::string>());
  config.cert_file = v["tls-cert"].as<std::string>();
  config.key_file = v["tls-key"].as<std::string>();
  config.client_ca_file = v["client-ca"].as<std::string>();
  config.allowed_subjects = v.count("allow-client-subject") != 0U
                                ? v["allow-client-subject"].as<std::vector<std::string>>()
                                : std::vector<std::string>{"CN=localhost,OU=VENDOR"};
  config.worker_threads = 16;
  config.io_threads = 2;
  config.request_deadline = std::chrono::milliseconds(v["slow-ms"].as<unsigned>()) + std::chrono::seconds(30);
  config.log = [](std::string_view line) { std::cerr << "sas-sim: " << line << std::endl; };

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Platform platform(v["db"].as<std::string>(), std::move(profiles), fail, v["fail-rate"].as<double>(),
                    std::chrono::milliseconds(v["slow-ms"].as<unsigned>()));
  server::HttpsServer https(config, [&platform](const server::Request& r) { return platform.handle(r); });
  https.start();
  // One write, so that a reader never sees the line without its port.
  std::cerr << ("sas-sim: platform Appointment endpoint listening on https://" + config.host + ":" +
                std::to_string(https.port()) + " (--fail " + fail + ")\n")
            << std::flush;
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  https.stop();
  return 0;
}

int received(const std::vector<std::string>& args) {
  po::options_description options("received options");
  options.add_options()("db", po::value<std::string>()->required(), "the file of sas-sim serve --db")(
      "with-body", po::bool_switch(), "include each request's body");
  int exit_code = 0;
  auto vm = sas::cli::parse_options("sas-sim received", "--db FILE [--with-body]", options, args, exit_code);
  if (!vm) return exit_code;
  sqlite3* db = nullptr;
  const std::string path = (*vm)["db"].as<std::string>();
  if (!std::filesystem::exists(path) ||
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    std::cerr << "sas-sim received: --db " << path << ": cannot open\n";
    return 1;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT n, received_at, method, target, client, identifier, resource_status, http_status, result, "
                     "body FROM received ORDER BY n",
                     -1, &s, nullptr);
  auto text = [s](int c) {
    const unsigned char* t = sqlite3_column_text(s, c);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  };
  while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
    json::object row{{"n", sqlite3_column_int64(s, 0)},
                     {"received_at", text(1)},
                     {"method", text(2)},
                     {"target", text(3)},
                     {"client", text(4)},
                     {"identifier", text(5)},
                     {"status", text(6)},
                     {"http_status", sqlite3_column_int(s, 7)},
                     {"result", text(8)}};
    if ((*vm)["with-body"].as<bool>()) {
      boost::system::error_code ec;
      json::value body = json::parse(text(9), ec);
      row["body"] = ec ? json::value(text(9)) : body;
    }
    std::cout << json::serialize(row) << "\n";
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return 0;
}

}  // namespace sas::sim::cli
