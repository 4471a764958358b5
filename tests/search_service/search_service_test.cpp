// INT_R01's one search path (slot_search::SearchService), through the real `sas-host serve` and
// a real test plugin (search_outcomes): GET [base]/Slot, the admin API's explain and
// `sas-host search` give the same status and words for the same plugin failure; the Bundle
// builder's warnings reach the log, once each; HEAD answers the GET's headers without a body.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sas_test/host_log.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <sas/host/admin_api/admin_client.hpp>
#include <sas/pki/test_pki.hpp>
#include <string>
#include <thread>
#include <vector>

#include "e2e_support.hpp"
#include "sas_test/support.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::HasSubstr;

constexpr const char* kFrom = "2026-11-23T00:00:00+01:00";
constexpr const char* kTo = "2026-11-24T00:00:00+01:00";
constexpr const char* kFromEncoded = "2026-11-23T00:00:00%2B01:00";
constexpr const char* kToEncoded = "2026-11-24T00:00:00%2B01:00";

// What search_outcomes does for the first practitioner asked for.
constexpr const char* kThrows = "810000000011";
constexpr const char* kUnavailable = "810000000022";
constexpr const char* kSlow = "810000000033";
constexpr const char* kRefuses = "810000000044";
constexpr const char* kBadData = "810000000055";
constexpr const char* kEmpty = "810000000099";
constexpr const char* kPollsShouldStop = "810000000066";

struct Answer {
  long status = 0;
  std::string body;
  std::string content_length;  // the header, "" when absent
};

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t header_line(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  const std::string name = "content-length:";
  if (line.size() > name.size()) {
    std::string head = line.substr(0, name.size());
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == name) {
      std::string value = line.substr(name.size());
      value.erase(0, value.find_first_not_of(' '));
      value.erase(value.find_last_not_of("\r\n ") + 1);
      *static_cast<std::string*>(out) = value;
    }
  }
  return size * n;
}

// The real host on the test plugin, with its admin API; the plugin gets 1 s per call.
class SearchHost {
 public:
  SearchHost() : work_(sas::test::make_temp_dir("search-service")), pki_(work_ / "pki") {
    sas::pki::write_test_pki(pki_);
    token_ = "t0k3n-" + std::string(40, 's') + "-search";
    sas::test::write_file(work_ / "admin.token", token_ + "\n");
    ::chmod((work_ / "admin.token").c_str(), 0600);
    process_ =
        std::make_unique<sas::test::ChildProcess>(std::vector<std::string>{sas::test::bin("sas-host").string(),
                                                                           "serve",
                                                                           "--plugin",
                                                                           plugin().string(),
                                                                           "--plugin-config",
                                                                           "record=" + stops().string(),
                                                                           "--store",
                                                                           "sqlite:" + (work_ / "host.db").string(),
                                                                           "--listen",
                                                                           "127.0.0.1:0",
                                                                           "--tls-cert",
                                                                           (pki_ / "server.pem").string(),
                                                                           "--tls-key",
                                                                           (pki_ / "server-key.pem").string(),
                                                                           "--client-ca",
                                                                           (pki_ / "ca.pem").string(),
                                                                           "--allow-client-subject",
                                                                           "CN=sas.sante.fr,OU=SAS",
                                                                           "--request-deadline-ms",
                                                                           "1500",
                                                                           "--admin-listen",
                                                                           "127.0.0.1:0",
                                                                           "--admin-token-file",
                                                                           (work_ / "admin.token").string()});
    for (int i = 0; i < 1500 && admin_port_ == 0; ++i) {
      const std::string out = process_->output();
      if (sas::test::listening_port(out, "fhir") != 0 && sas::test::listening_port(out, "admin") != 0) {
        fhir_port_ = sas::test::listening_port(out, "fhir");
        admin_port_ = sas::test::listening_port(out, "admin");
        break;
      }
      if (!process_->running()) break;
      std::this_thread::sleep_for(10ms);
    }
    if (admin_port_ == 0) throw std::runtime_error("sas-host serve did not start:\n" + process_->output());
  }
  ~SearchHost() {
    process_->stop();
    std::error_code ec;
    fs::remove_all(work_, ec);
  }

  static fs::path plugin() { return sas::test::test_plugin("search_outcomes"); }
  // Where the plugin writes when it saw should_stop() (unix micros, one line per call).
  fs::path stops() const { return work_ / "stops"; }
  const fs::path& pki() const { return pki_; }
  uint16_t fhir_port() const { return static_cast<uint16_t>(fhir_port_); }
  std::string output() const { return process_->output(); }

  // A request to the FHIR endpoint with the platform's certificate.
  Answer fhir(const std::string& method, const std::string& target) const {
    Answer answer;
    CURL* curl = curl_easy_init();
    const std::string url = "https://localhost:" + std::to_string(fhir_port_) + target;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, (pki_ / "ca.pem").c_str());
    curl_easy_setopt(curl, CURLOPT_SSLCERT, (pki_ / "client.pem").c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, (pki_ / "client-key.pem").c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_line);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer.content_length);
    if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
    curl_easy_cleanup(curl);
    return answer;
  }

  sas::host::admin_api::ClientAnswer admin(const std::string& path) const {
    sas::host::admin_api::ClientOptions options;
    options.base = "https://localhost:" + std::to_string(admin_port_);
    options.token = token_;
    options.ca_file = (pki_ / "ca.pem").string();
    options.timeout = 10s;
    return sas::host::admin_api::request(options, "GET", path);
  }

 private:
  fs::path work_, pki_;
  std::string token_;
  int fhir_port_ = 0, admin_port_ = 0;
  std::unique_ptr<sas::test::ChildProcess> process_;
};

std::string slot_target(const std::string& practitioner) {
  return std::string("/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge") + kFromEncoded +
         "&start=le" + kToEncoded + "&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|" +
         practitioner + "&status=free";
}

// The one diagnostics line of an OperationOutcome (which must be valid JSON).
std::string diagnostics(const std::string& body) {
  const auto outcome = json::parse(body).as_object();
  EXPECT_EQ(outcome.at("resourceType"), "OperationOutcome") << body;
  return std::string(outcome.at("issue").as_array().at(0).at("diagnostics").as_string());
}

class SearchServiceTest : public testing::Test {
 protected:
  static void SetUpTestSuite() { host_ = new SearchHost(); }
  static void TearDownTestSuite() {
    delete host_;
    host_ = nullptr;
  }
  static SearchHost* host_;
};
SearchHost* SearchServiceTest::host_ = nullptr;

TEST_F(SearchServiceTest, TheCallersGiveTheSameStatusAndWordsForAPluginFailure) {
  struct Case {
    const char* practitioner;
    long status;
    const char* words;
  };
  for (const auto& c : std::vector<Case>{{kThrows, 502, "the agenda plugin failed"},
                                         {kUnavailable, 503, "agenda database is locked"},
                                         {kSlow, 504, "did not answer in time"},
                                         {kRefuses, 400, "cannot search that window"}}) {
    SCOPED_TRACE(c.practitioner);
    const Answer fhir = host_->fhir("GET", slot_target(c.practitioner));
    ASSERT_EQ(fhir.status, c.status) << fhir.body;
    const std::string words = diagnostics(fhir.body);
    EXPECT_THAT(words, HasSubstr(c.words));

    const auto explain = host_->admin(std::string("/admin/v1/practitioners/") + c.practitioner +
                                      "/explain?start=" + kFromEncoded + "&end=" + kToEncoded);
    EXPECT_EQ(explain.status, c.status) << explain.body;
    EXPECT_EQ(explain.message(), words);

    const auto cli =
        sas::test::run({sas::test::bin("sas-host").string(), "search", "--plugin", SearchHost::plugin().string(),
                        "--practitioners", c.practitioner, "--from", kFrom, "--to", kTo});
    EXPECT_NE(cli.exit_code, 0);
    EXPECT_THAT(cli.err, HasSubstr("sas-host search: " + words + " (HTTP " + std::to_string(c.status) + ")"));
  }
}

// The fourth caller: sas-conformance's plugin mode reports the same words as a finding.
TEST_F(SearchServiceTest, TheConformanceSuiteReportsTheSameWords) {
  const Answer fhir = host_->fhir("GET", slot_target(kUnavailable));
  ASSERT_EQ(fhir.status, 503) << fhir.body;
  const std::string words = diagnostics(fhir.body);
  const fs::path dir = sas::test::make_temp_dir("search-conformance");
  const auto r = sas::test::run({sas::test::bin("sas-conformance").string(), "plugin", SearchHost::plugin().string(),
                                 "--practitioners", kUnavailable, "--now", "2026-11-23T08:00:00+01:00", "--json",
                                 (dir / "report.json").string(), "--skip", "R02-", "PERF-"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(sas::test::read_file(dir / "report.json"), HasSubstr("the plugin answered an error: " + words));
  fs::remove_all(dir);
}

TEST_F(SearchServiceTest, AMessageWithQuotesAndBackslashesStaysValidJson) {
  const Answer fhir = host_->fhir("GET", slot_target(kThrows));
  ASSERT_EQ(fhir.status, 502);
  EXPECT_THAT(diagnostics(fhir.body), HasSubstr(R"(search exploded on a "quoted" C:\agenda path)"));
}

TEST_F(SearchServiceTest, BundleWarningsAboutTheAgendaDataAreLoggedOnceEach) {
  for (int i = 0; i < 3; ++i) {
    const Answer fhir = host_->fhir("GET", slot_target(kBadData));
    ASSERT_EQ(fhir.status, 200) << fhir.body;
    EXPECT_EQ(json::parse(fhir.body).at("total"), 0);
  }
  const std::string out = host_->output();
  const std::string warning = "a practitioner has an empty id and is ignored";
  const auto first = out.find(warning);
  ASSERT_NE(first, std::string::npos) << out;
  EXPECT_EQ(out.find(warning, first + 1), std::string::npos) << "logged more than once:\n" << out;
}

// INT_R04: search_outcomes declares slot-search only. The CPTS search is refused before the
// plugin is called (its answer would be the INT_R01 slots), and /metadata does not declare it.
TEST_F(SearchServiceTest, ACptsSearchIsRefusedWhenThePluginDoesNotDeclareTheFlow) {
  const Answer fhir = host_->fhir("GET", slot_target(kThrows) +
                                             "&_include=Slot:service-type-reference"
                                             "&_include:iterate=HealthcareService:organization");
  EXPECT_EQ(fhir.status, 400) << fhir.body;
  const auto issue = json::parse(fhir.body).at("issue").at(0);
  EXPECT_EQ(issue.at("code"), "not-supported");
  EXPECT_EQ(issue.at("expression").at(0), "_include");
  EXPECT_THAT(std::string(issue.at("diagnostics").as_string()),
              HasSubstr("does not offer the CPTS search (INT_R04): its plugin search-outcomes does not declare the "
                        "cpts-search flow"));
  const Answer metadata = host_->fhir("GET", "/metadata");
  ASSERT_EQ(metadata.status, 200);
  EXPECT_THAT(metadata.body, testing::Not(HasSubstr("CPTS")));
  EXPECT_THAT(metadata.body, testing::Not(HasSubstr("service-type-reference")));
}

TEST_F(SearchServiceTest, HeadAnswersTheGetHeadersWithoutABody) {
  for (const std::string& target : std::vector<std::string>{"/metadata", slot_target(kEmpty)}) {
    SCOPED_TRACE(target);
    const Answer get = host_->fhir("GET", target);
    ASSERT_EQ(get.status, 200) << get.body;
    ASSERT_FALSE(get.body.empty());
    const Answer head = host_->fhir("HEAD", target);
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.body, "");
    // The Bundle's timestamp may differ by a digit's width; metadata is byte for byte the same.
    if (target == "/metadata") {
      EXPECT_EQ(head.content_length, std::to_string(get.body.size()));
    }
    EXPECT_FALSE(head.content_length.empty());
    EXPECT_NE(head.content_length, "0");
  }
  // On the wire: the head of the answer and nothing after it.
  const std::string raw = sas::e2e::raw_tls_exchange(
      host_->pki(), host_->fhir_port(), "HEAD /metadata HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  ASSERT_THAT(raw, testing::StartsWith("HTTP/1.1 200 "));
  const auto end_of_head = raw.find("\r\n\r\n");
  ASSERT_NE(end_of_head, std::string::npos) << raw;
  EXPECT_EQ(raw.size(), end_of_head + 4) << "a body followed the head:\n" << raw;
  EXPECT_THAT(raw, HasSubstr("Content-Length: " + std::to_string(host_->fhir("GET", "/metadata").body.size())));
}

}  // namespace

// Cancellation: a plugin polling should_stop() sees it when the client goes away and at its
// deadline (the host's stop token, docs/abi.md "is_cancelled").
int64_t unix_micros_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The moment the plugin recorded, waiting up to 5 s for it; 0 when it never wrote.
int64_t recorded_stop(const fs::path& file) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(file);
    int64_t seen = 0;
    if (in >> seen) return seen;
    std::this_thread::sleep_for(10ms);
  }
  return 0;
}

TEST_F(SearchServiceTest, APluginSeesShouldStopWithin50msOfTheClientGoingAway) {
  fs::remove(host_->stops());  // the plugin appends: another test's stop must not be read as this one's
  const int64_t started = unix_micros_now();
  CURL* curl = curl_easy_init();
  const std::string url = "https://localhost:" + std::to_string(host_->fhir_port()) + slot_target(kPollsShouldStop);
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, (host_->pki() / "ca.pem").c_str());
  curl_easy_setopt(curl, CURLOPT_SSLCERT, (host_->pki() / "client.pem").c_str());
  curl_easy_setopt(curl, CURLOPT_SSLKEY, (host_->pki() / "client-key.pem").c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 300L);  // the client gives up long before the 1 s plugin deadline
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_cleanup(curl);  // closes the connection
  const int64_t gone = unix_micros_now();
  ASSERT_EQ(code, CURLE_OPERATION_TIMEDOUT) << body;

  const int64_t seen = recorded_stop(host_->stops());
  ASSERT_NE(seen, 0) << "the plugin never saw should_stop()\n" << host_->output();
  EXPECT_GT(seen, started + 250'000) << "the plugin stopped before the client left";
  EXPECT_LT(seen - gone, 50'000) << "the plugin saw should_stop() " << (seen - gone) / 1000
                                 << " ms after the client left";
  EXPECT_THAT(host_->output(), HasSubstr("went away; stopping its request"));
}

TEST_F(SearchServiceTest, APluginSeesShouldStopAtItsDeadline) {
  fs::remove(host_->stops());  // the plugin appends: another test's stop must not be read as this one's
  const int64_t started = unix_micros_now();
  const Answer answer = host_->fhir("GET", slot_target(kPollsShouldStop));
  EXPECT_EQ(answer.status, 504) << answer.body;
  const int64_t seen = recorded_stop(host_->stops());
  ASSERT_NE(seen, 0) << "the plugin never saw should_stop()";
  // The plugin gets 1 s per call; it saw the stop at that deadline, not before, not long after.
  EXPECT_GE(seen - started, 950'000);
  EXPECT_LT(seen - started, 1'450'000);
}
