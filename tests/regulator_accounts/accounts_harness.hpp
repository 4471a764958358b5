// What the INT_R02 tests share: a test PKI, the real `sas-host serve` on a plugin and a fresh
// agenda file, an HTTPS client with the SAS platform's certificate (libcurl, any method, any
// body, response headers kept), SQL on the agenda and store files, the IG's examples.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "sas_test/support.hpp"

namespace sas::accounts_test {

namespace fs = std::filesystem;

inline constexpr const char* kNational = "urn:oid:1.2.250.1.71.4.2.1";
inline constexpr const char* kSas = "urn:oid:1.2.250.1.213.3.6";
inline constexpr const char* kRegulProfile =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul";

// Practitioner-ExamplePractitionerRegulN.json of the IG, parsed.
boost::json::object example(int n);
// A regulator built from example 2 with other identifiers, names and e-mail.
boost::json::object regulator(const std::string& national_id, const std::string& sas_id = "",
                              const std::string& family = "MARTIN", const std::string& email = "");

// An empty agenda in the sqlite-agenda schema.
void create_agenda(const fs::path& path);

struct HostOptions {
  fs::path plugin;            // default: the reference plugin
  std::string plugin_config;  // default: db=<work>/agenda.db
  std::vector<std::string> extra_arguments;
};

// A work directory with a PKI and an empty agenda, and the real host on it.
class Host {
 public:
  explicit Host(HostOptions options = {});
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  ~Host();

  std::string base() const { return "https://localhost:" + std::to_string(port_) + "/sas"; }
  uint16_t port() const { return port_; }
  const fs::path& pki() const { return pki_; }
  fs::path agenda() const { return work_ / "agenda.db"; }
  fs::path store() const { return work_ / "host.db"; }
  bool running() { return process_->running(); }
  std::string output() const { return process_->output(); }

 private:
  fs::path work_;
  fs::path pki_;
  uint16_t port_ = 0;
  std::unique_ptr<sas::test::ChildProcess> process_;
};

struct Response {
  int curl_code = 0;
  long status = 0;  // 0: no HTTP answer
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names

  std::string header(const std::string& name) const;
  boost::json::object json() const;
  // The OperationOutcome's issues as "expression: diagnostics" lines, for messages.
  std::string describe() const;
  // True when some issue has this expression and diagnostics containing `words`.
  bool has_issue(const std::string& expression, const std::string& words = "") const;
  std::string issue_code(const std::string& expression) const;
};

struct Request {
  std::string method = "POST";
  std::string path = "/Practitioner";  // after the base
  std::string body;
  std::vector<std::string> headers = {"Content-Type: application/fhir+json"};
  std::string client = "client";  // certificate name in the PKI
};

Response send(const Host& host, const Request& request);
Response post(const Host& host, const boost::json::object& practitioner);
Response put(const Host& host, const std::string& system, const std::string& value,
             const boost::json::object& practitioner);

// Rows of one query on an SQLite file opened read-only; NULL reads "NULL".
std::vector<std::vector<std::string>> sql(const fs::path& db, const std::string& query);

// The reference plugin's regulator_account rows, one map per row (column -> value).
std::vector<std::map<std::string, std::string>> accounts(const Host& host, const std::string& where = "");
// The host's audit rows (regulator_account_request), oldest first.
std::vector<std::map<std::string, std::string>> audit(const Host& host);

}  // namespace sas::accounts_test
