#include "accounts_harness.hpp"

#include <curl/curl.h>
#include <sqlite3.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "sas/pki/test_pki.hpp"
#include "sas/sqlite_agenda/schema.hpp"

namespace sas::accounts_test {

namespace json = boost::json;

json::object example(int n) {
  const auto path =
      sas::test::ig_dir() / "example" / ("Practitioner-ExamplePractitionerRegul" + std::to_string(n) + ".json");
  return json::parse(sas::test::read_file(path)).as_object();
}

json::object regulator(const std::string& national_id, const std::string& sas_id, const std::string& family,
                       const std::string& email) {
  json::object p = example(2);
  p.erase("text");
  json::array identifiers;
  auto identifier = [](const char* code, const char* system, const std::string& value) {
    return json::object{
        {"type", json::object{{"coding", json::array{json::object{
                                             {"system", "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"},
                                             {"code", code}}}}}},
        {"system", system},
        {"value", value}};
  };
  if (!national_id.empty()) identifiers.emplace_back(identifier("IDNPS", kNational, national_id));
  if (!sas_id.empty()) identifiers.emplace_back(identifier("INTRN", kSas, sas_id));
  p["identifier"] = std::move(identifiers);
  p["name"] = json::array{json::object{{"family", family}, {"given", json::array{"Jeanne"}}}};
  std::string address = email;
  if (address.empty()) {
    address = family + "@test.com";
    std::transform(address.begin(), address.end(), address.begin(), [](unsigned char c) { return std::tolower(c); });
  }
  p["telecom"] = json::array{json::object{{"system", "email"}, {"value", address}}};
  return p;
}

void create_agenda(const fs::path& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot create " + path.string());
  }
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sas::sqlite_agenda::schema_sql(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("schema: " + message);
}

Host::Host(HostOptions options) : work_(sas::test::make_temp_dir("accounts")), pki_(work_ / "pki") {
  sas::pki::write_test_pki(pki_);
  create_agenda(agenda());
  const fs::path plugin = options.plugin.empty() ? sas::test::plugin("sas-sqlite-agenda") : options.plugin;
  const std::string config = options.plugin_config.empty() ? "db=" + agenda().string() : options.plugin_config;
  // A free port can be taken between free_port() and the bind: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = sas::test::free_port();
    std::vector<std::string> argv = {sas::test::bin("sas-host").string(),
                                     "serve",
                                     "--plugin",
                                     plugin.string(),
                                     "--plugin-config",
                                     config,
                                     "--store",
                                     "sqlite:" + store().string(),
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "--base-url",
                                     base(),
                                     "--tls-cert",
                                     (pki_ / "server.pem").string(),
                                     "--tls-key",
                                     (pki_ / "server-key.pem").string(),
                                     "--client-ca",
                                     (pki_ / "ca.pem").string(),
                                     "--client-crl",
                                     (pki_ / "crl.pem").string(),
                                     "--allow-client-subject",
                                     "CN=sas.sante.fr,OU=SAS"};
    for (const auto& a : sas::test::plugin_isolation_args()) argv.push_back(a);
    for (const auto& a : options.extra_arguments) argv.push_back(a);
    process_ = std::make_unique<sas::test::ChildProcess>(argv);
    if (process_->wait_for_output("listening on")) {
      sas::test::expect_plugin_isolation(*process_);
      return;
    }
    if (process_->running()) break;
  }
  throw std::runtime_error("sas-host serve did not start:\n" + output());
}

Host::~Host() {
  process_->stop();
  std::error_code ec;
  fs::remove_all(work_, ec);
}

std::string Response::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

json::object Response::json() const { return json::parse(body).as_object(); }

std::string Response::describe() const {
  std::string out =
      "curl " + std::to_string(curl_code) + ", HTTP " + std::to_string(status) + ": " + body.substr(0, 3000);
  return out;
}

namespace {

// The OperationOutcome's issues, or none when the body is not one.
std::vector<json::object> issues_of(const Response& r) {
  std::vector<json::object> out;
  boost::system::error_code ec;
  const json::value parsed = json::parse(r.body, ec);
  if (ec || !parsed.is_object()) return out;
  const auto* issues = parsed.as_object().if_contains("issue");
  if (issues == nullptr || !issues->is_array()) return out;
  for (const auto& issue : issues->get_array()) out.push_back(issue.as_object());
  return out;
}

bool has_expression(const json::object& issue, const std::string& expression) {
  const auto* expressions = issue.if_contains("expression");
  if (expressions == nullptr) return expression.empty();
  for (const auto& e : expressions->as_array()) {
    if (e.as_string() == expression) return true;
  }
  return false;
}

}  // namespace

bool Response::has_issue(const std::string& expression, const std::string& words) const {
  for (const auto& i : issues_of(*this)) {
    if (!has_expression(i, expression)) continue;
    const auto* diagnostics = i.if_contains("diagnostics");
    if (words.empty() ||
        (diagnostics != nullptr && std::string(diagnostics->as_string()).find(words) != std::string::npos)) {
      return true;
    }
  }
  return false;
}

std::string Response::issue_code(const std::string& expression) const {
  for (const auto& issue : issues_of(*this)) {
    if (has_expression(issue, expression)) return std::string(issue.at("code").as_string());
  }
  return {};
}

namespace {

size_t collect_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t collect_header(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(value.begin());
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

}  // namespace

Response send(const Host& host, const Request& request) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
  Response r;
  const std::string url = host.base() + request.path;
  const std::string ca = (host.pki() / "ca.pem").string();
  const std::string cert = (host.pki() / (request.client + ".pem")).string();
  const std::string key = (host.pki() / (request.client + "-key.pem")).string();
  const std::string resolve_entry = "localhost:" + std::to_string(host.port()) + ":127.0.0.1";
  curl_slist* resolve = curl_slist_append(nullptr, resolve_entry.c_str());
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/fhir+json");
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_SSLCERT, cert.c_str());
  curl_easy_setopt(curl, CURLOPT_SSLKEY, key.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  r.curl_code = static_cast<int>(curl_easy_perform(curl));
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_slist_free_all(resolve);
  curl_easy_cleanup(curl);
  return r;
}

Response post(const Host& host, const json::object& practitioner) {
  Request request;
  request.body = json::serialize(practitioner);
  return send(host, request);
}

Response put(const Host& host, const std::string& system, const std::string& value, const json::object& practitioner) {
  Request request;
  request.method = "PUT";
  request.path = "/Practitioner?identifier=" + system + "|" + value;
  request.body = json::serialize(practitioner);
  return send(host, request);
}

std::vector<std::vector<std::string>> sql(const fs::path& db, const std::string& query) {
  return sas::test::sqlite_rows(db, query, "NULL");
}

namespace {

std::vector<std::map<std::string, std::string>> rows_as_maps(const fs::path& db, const std::string& columns,
                                                             const std::string& rest) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= columns.size()) {
    auto end = columns.find(", ", start);
    if (end == std::string::npos) end = columns.size();
    names.push_back(columns.substr(start, end - start));
    start = end + 2;
  }
  std::vector<std::map<std::string, std::string>> out;
  for (const auto& row : sql(db, "SELECT " + columns + " " + rest)) {
    auto& m = out.emplace_back();
    for (size_t i = 0; i < names.size(); ++i) m[names[i]] = row[i];
  }
  return out;
}

}  // namespace

std::vector<std::map<std::string, std::string>> accounts(const Host& host, const std::string& where) {
  return rows_as_maps(host.agenda(),
                      "id, national_id, sas_id, family_name, given_names, email, active, password_hash, "
                      "terms_accepted_at, created_at, updated_at",
                      "FROM regulator_account " + where + " ORDER BY created_at, rowid");
}

std::vector<std::map<std::string, std::string>> audit(const Host& host) {
  return rows_as_maps(host.store(),
                      "id, received_at, method, target, client, remote, content_type, body, finished_at, operation, "
                      "national_id, sas_id, active, outcome, http_status, account_id, plugin_status, diagnostics",
                      "FROM regulator_account_request ORDER BY id");
}

}  // namespace sas::accounts_test
