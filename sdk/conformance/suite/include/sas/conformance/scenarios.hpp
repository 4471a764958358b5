// The suite's scenarios, the same in both modes: they talk to a Transport (HTTPS over mutual TLS
// to a live endpoint, or the host's fhir_server::FhirEndpoint in process around a loaded plugin) and record
// their verdicts in a Run.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <sas/conformance/report.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sas::conformance {

using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

struct HttpReply {
  bool transport_ok = false;  // false: no HTTP answer (connection, TLS, timeout)
  long status = 0;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string error;                                         // when !transport_ok
  double seconds = 0;                                        // time of the exchange itself
  std::string header(std::string_view name) const;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // `target` is the path and query under the FHIR base ("/Slot?..."), sent byte for byte.
  virtual HttpReply send(const std::string& method, const std::string& target, const std::string& body = {}) = 0;
};

struct ScenarioOptions {
  // Prefixed national ids (1 to 25) the vendor's test data holds, each with free slots in the window.
  std::vector<std::string> practitioners;
  // INT_R04: prefixed national ids whose free slots in the window include slots open to a CPTS, and
  // one with a free slot open to two CPTS (IG FAQ 11; "" = none).
  std::vector<std::string> cpts_practitioners;
  std::string cpts_two;
  // SOS: prefixed SIRETs (3 + 14 digits, 1 to 25) of SOS Médecins associations with free slots in the window.
  std::vector<std::string> sos_sirets;
  Instant now{};                                   // every query window is computed from it
  std::chrono::hours window{48};                   // the platform searches 48 h ahead
  std::filesystem::path ig_dir;                    // the official Practitioner-ExamplePractitionerRegul*.json
  int perf_warmup = 3;                             // searches before measuring
  int perf_searches = 20;                          // measured searches
  double budget_ms = 1000;                         // PERF-002's advisory budget
  std::function<void(std::string_view)> progress;  // one line per step; none when empty
};

// The platform's search URL target ("/Slot?...") in one of its forms.
struct QueryForm {
  std::string bar = "|";        // "|" or "%7C"
  std::string plus = "%2B";     // "%2B" or "+"
  bool millis = true;           // dates with milliseconds
  std::string separator = ",";  // "," or ",%20"
  bool reordered = false;       // status and _include first
  int count = -1;               // _count when >= 0
  bool unprefixed = false;      // ids without their 8/0 prefix
};
std::string slot_query(const std::vector<std::string>& ids, Instant from, Instant to, const QueryForm& form = {});
// The platform's INT_R04 CPTS search ("/Slot?...", the INT_R01 one with the CPTS `_include`s); without
// organization_include, the form of the IG examples' self link (no `_include:iterate=HealthcareService:organization`).
std::string cpts_query(const std::vector<std::string>& ids, Instant from, Instant to, const QueryForm& form = {},
                       bool organization_include = true);
// The platform's SOS Médecins search ("/Schedule?...") for prefixed SIRETs, in one of its forms
// (bar, plus, millis, count of QueryForm; the others do not apply).
std::string sos_query(const std::vector<std::string>& sirets, Instant from, Instant to, const QueryForm& form = {});

// R01-QUERY-*, and R01-BUNDLE/PROFILE/FAQ on every answer.
void run_search_scenarios(Run& run, Transport& transport, const ProfileSet& profiles, const ScenarioOptions& options);
// R04-*: when the CapabilityStatement declares the CPTS search (else "not run": not declared).
void run_cpts_scenarios(Run& run, Transport& transport, const ProfileSet& profiles, const ScenarioOptions& options);
// SOS-*: when the CapabilityStatement declares the SOS search (else "not run": not declared).
void run_sos_scenarios(Run& run, Transport& transport, const ProfileSet& profiles, const ScenarioOptions& options);
// R02-*: when the CapabilityStatement declares Practitioner (else "not run").
// The account the server answers (if any) gets the INT_R02 profile checks.
void run_account_scenarios(Run& run, Transport& transport, const ProfileSet& profiles, const ScenarioOptions& options);
// PERF-*: warm-up, then options.perf_searches searches.
void run_latency(Run& run, Transport& transport, const ScenarioOptions& options);

// A valid RPPS-based national id (8 + 11 digits with the Luhn key) from a 10-digit stem.
std::string rpps_with_key(std::string_view ten_digits);
// A valid prefixed SIRET (3 + 14 digits with the Luhn key) from a 13-digit stem.
std::string siret_with_key(std::string_view thirteen_digits);

// What the server's CapabilityStatement (GET [base]/metadata) declares of the searches.
struct DeclaredSearches {
  bool capability = false;  // a CapabilityStatement was answered
  bool cpts = false;        // INT_R04: Slot searchInclude Slot:service-type-reference, or instantiates
                            // SAS-GestionnaireAgenda-CPTS
  bool sos = false;         // SOS: a Schedule search-type with _revinclude Slot:schedule, or instantiates
                            // SAS-GestionnaireAgenda-SOS
};
DeclaredSearches declared_searches(Transport& transport);

}  // namespace sas::conformance
