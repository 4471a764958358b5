// sas-sim search and load as the SAS platform uses them: against the real sas-host over
// mutual TLS, with a test PKI and a generated agenda.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <sas/sdk/datetime.hpp>
#include <sas/sim/agenda_generator.hpp>
#include <sas_test/support.hpp>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using sas::test::bin;
using sas::test::run;
using testing::HasSubstr;

std::string join(const std::vector<std::string>& ids, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < ids.size(); ++i) out += (i ? "," : "") + ids[i];
  return out;
}

std::string paris(std::chrono::system_clock::time_point t) {
  return sas::sdk::datetime::format_paris(std::chrono::time_point_cast<std::chrono::milliseconds>(t));
}

// One PKI, one agenda and one sas-host serve for the whole suite: starting the host is the slow part.
class SimulatorTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(sas::test::make_temp_dir("simulator"));
    auto pki = run({bin("sas-sim"), "pki", "--out", (*dir_ / "pki").string()});
    ASSERT_EQ(pki.exit_code, 0) << pki.err;
    // Starts today (Europe/Paris): load searches [now, now + H].
    auto gen = run({bin("sas-sim"), "gen-agenda", "--out", agenda().string(), "--practitioners", "40", "--days", "7",
                    "--seed", "7"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    ids_ = new std::vector<std::string>(sas::sim::practitioner_ids(agenda()));
    ASSERT_GE(ids_->size(), 40U);

    port_ = sas::test::free_port();
    host_ = new sas::test::ChildProcess({bin("sas-host"),
                                         "serve",
                                         "--plugin",
                                         sas::test::plugin("sas-sqlite-agenda").string(),
                                         "--plugin-config",
                                         "db=" + agenda().string(),
                                         "--store",
                                         "sqlite:" + (*dir_ / "host.db").string(),
                                         "--listen",
                                         "127.0.0.1:" + std::to_string(port_),
                                         "--tls-cert",
                                         pki_file("server.pem"),
                                         "--tls-key",
                                         pki_file("server-key.pem"),
                                         "--client-ca",
                                         pki_file("ca.pem"),
                                         "--client-crl",
                                         pki_file("crl.pem"),
                                         "--allow-client-subject",
                                         "CN=sas.sante.fr,OU=SAS"});
    for (int i = 0; i < 1000 && host_->output().find("listening on") == std::string::npos; ++i) {
      ASSERT_TRUE(host_->running()) << host_->output();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_THAT(host_->output(), HasSubstr("listening on")) << host_->output();
  }

  static void TearDownTestSuite() {
    delete host_;  // stops the server
    host_ = nullptr;
    delete ids_;
    ids_ = nullptr;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(host_, nullptr);
    ASSERT_TRUE(host_->running()) << host_->output();
  }

  static fs::path agenda() { return *dir_ / "agenda.db"; }
  static std::string pki_file(const std::string& name) { return (*dir_ / "pki" / name).string(); }
  static std::string base() { return "https://localhost:" + std::to_string(port_); }
  static std::vector<std::string> tls(const std::string& cert = "client.pem",
                                      const std::string& key = "client-key.pem") {
    return {"--cert", pki_file(cert), "--key", pki_file(key), "--ca", pki_file("ca.pem")};
  }

  // search over the next 7 days for the first `n` practitioners of the agenda
  static sas::test::RunResult search(size_t n, bool raw) {
    const auto now = std::chrono::system_clock::now();
    std::vector<std::string> argv = {bin("sas-sim"), "search", "--base", base()};
    for (auto& a : tls()) argv.push_back(a);
    for (auto& a : std::vector<std::string>{"--practitioners", join(*ids_, n), "--from", paris(now), "--to",
                                            paris(now + std::chrono::hours(24 * 7))}) {
      argv.push_back(a);
    }
    if (raw) argv.push_back("--raw");
    return run(argv);
  }

  static inline fs::path* dir_ = nullptr;
  static inline std::vector<std::string>* ids_ = nullptr;
  static inline uint16_t port_ = 0;
  static inline sas::test::ChildProcess* host_ = nullptr;
};

TEST_F(SimulatorTest, SearchRawPrintsABundleWhoseTotalCountsItsSlots) {
  auto result = search(10, true);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  json::value bundle = json::parse(result.out);
  EXPECT_EQ(bundle.at("resourceType"), "Bundle");
  EXPECT_EQ(bundle.at("type"), "searchset");
  int64_t slots = 0;
  for (const auto& entry : bundle.at("entry").as_array()) {
    if (entry.at("resource").at("resourceType") == "Slot") ++slots;
  }
  EXPECT_GT(slots, 0) << "10 practitioners over 7 days and no free slot: the agenda changed?";
  EXPECT_EQ(bundle.at("total").to_number<int64_t>(), slots);
  EXPECT_NE(result.out.find("\n  \"resourceType\": \"Bundle\""), std::string::npos) << "not pretty-printed";
}

TEST_F(SimulatorTest, SearchSummaryShowsEachPractitionersSlots) {
  auto raw = search(10, true);
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  json::value bundle = json::parse(raw.out);
  const int64_t total = bundle.at("total").to_number<int64_t>();
  ASSERT_GT(total, 0);

  auto summary = search(10, false);
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_THAT(summary.out, HasSubstr("HTTP 200, total " + std::to_string(total) + " free slot(s)"));
  int practitioners = 0;
  for (const auto& entry : bundle.at("entry").as_array()) {
    const auto& r = entry.at("resource").as_object();
    if (r.at("resourceType") == "Practitioner") {
      ++practitioners;
      const std::string family(r.at("name").at(0).at("family").as_string());
      const std::string id(r.at("identifier").at(0).at("value").as_string());
      EXPECT_THAT(summary.out, HasSubstr(family));
      EXPECT_THAT(summary.out, HasSubstr("(" + id + ")"));
    }
    if (r.at("resourceType") == "PractitionerRole") {
      EXPECT_THAT(summary.out, HasSubstr(std::string(r.at("contained").at(0).at("address").at("city").as_string())));
    }
  }
  EXPECT_GT(practitioners, 0);
  // One line per slot: "      2026-11-23 08:00  PUBLIC,SNP  AMB ..."
  std::istringstream lines(summary.out);
  int64_t slot_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("      2", 0) == 0) ++slot_lines;
  }
  EXPECT_EQ(slot_lines, total) << summary.out;
}

TEST_F(SimulatorTest, SearchPrintsTheOperationOutcomeOfARefusalAndExitsOne) {
  const auto now = std::chrono::system_clock::now();
  std::vector<std::string> argv = {bin("sas-sim"), "search", "--base", base()};
  for (auto& a : tls()) argv.push_back(a);
  for (auto& a : std::vector<std::string>{"--practitioners", "12AB", "--from", paris(now), "--to",
                                          paris(now + std::chrono::hours(48))}) {
    argv.push_back(a);
  }
  auto result = run(argv);
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_THAT(result.err, HasSubstr("HTTP 4"));
  EXPECT_THAT(result.err, HasSubstr("error "));  // an issue line: severity code: diagnostics
}

TEST_F(SimulatorTest, SearchRefusesAnInvalidDateTimeWithoutSending) {
  std::vector<std::string> argv = {bin("sas-sim"), "search", "--base", base()};
  for (auto& a : tls()) argv.push_back(a);
  for (auto& a : std::vector<std::string>{"--practitioners", ids_->front(), "--from", "2026-11-23T08:00:00", "--to",
                                          "2026-11-24T08:00:00+01:00"}) {
    argv.push_back(a);
  }
  auto result = run(argv);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--from"));
}

TEST_F(SimulatorTest, SearchWithABadClientCertificateFailsClearly) {
  const auto now = std::chrono::system_clock::now();
  auto attempt = [&](const std::vector<std::string>& tls_args, const std::string& url) {
    std::vector<std::string> argv = {bin("sas-sim"), "search", "--base", url};
    for (auto& a : tls_args) argv.push_back(a);
    for (auto& a : std::vector<std::string>{"--practitioners", ids_->front(), "--from", paris(now), "--to",
                                            paris(now + std::chrono::hours(48))}) {
      argv.push_back(a);
    }
    return run(argv);
  };

  auto missing = attempt(
      {"--cert", (*dir_ / "nope.pem").string(), "--key", pki_file("client-key.pem"), "--ca", pki_file("ca.pem")},
      base());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("--cert " + (*dir_ / "nope.pem").string() + ": no such file"));

  // A file that is not a certificate: libcurl's own refusal, with what to check.
  auto garbage =
      attempt({"--cert", agenda().string(), "--key", pki_file("client-key.pem"), "--ca", pki_file("ca.pem")}, base());
  EXPECT_EQ(garbage.exit_code, 1);
  EXPECT_THAT(garbage.err, HasSubstr("check --cert and --key"));

  // A well-formed certificate the server refuses (wrong OU).
  auto refused = attempt(tls("client-wrong-ou.pem", "client-wrong-ou-key.pem"), base());
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("no answer from " + base()));
  EXPECT_THAT(refused.err, HasSubstr("may have refused the client certificate"));  // CURLcode 35 or 56

  auto nobody = attempt(tls(), "https://localhost:" + std::to_string(sas::test::free_port()));
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_THAT(nobody.err, HasSubstr("is the server running"));
}

// A one-request plain-HTTP server that records what arrives on the wire.
class WireRecorder {
 public:
  explicit WireRecorder(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("WireRecorder: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~WireRecorder() {
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  std::string request() {
    thread_.join();
    thread_ = std::thread([] {});
    return request_;
  }

 private:
  void serve() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20000) != 1) return;
    int client = ::accept(fd_, nullptr, nullptr);
    if (client < 0) return;
    char buffer[4096];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      auto n = ::read(client, buffer, sizeof buffer);
      if (n <= 0) break;
      request_.append(buffer, static_cast<size_t>(n));
    }
    (void)!::write(client, response_.data(), response_.size());
    ::close(client);
  }

  std::string response_;
  std::string request_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(SimulatorWireTest, SearchSendsThePlatformsExactQuery) {
  const std::string body = R"({"resourceType":"Bundle","type":"searchset","total":0})";
  WireRecorder recorder("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  // TLS files must exist but plain HTTP does not use them.
  const std::string any_file = (sas::test::source_dir() / "README.md").string();
  auto result =
      run({bin("sas-sim"), "search", "--base", "http://127.0.0.1:" + std::to_string(recorder.port()) + "/fhir/",
           "--cert", any_file, "--key", any_file, "--ca", any_file, "--practitioners", "811000000007, 899999999999",
           "--from", "2026-11-23T08:00:00.000+01:00", "--to", "2026-11-24T08:00:00.000+01:00"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("HTTP 200, total 0"));
  const std::string request = recorder.request();
  EXPECT_EQ(request.substr(0, request.find("\r\n")),
            "GET /fhir/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor"
            "&start=ge2026-11-23T08:00:00.000%2B01:00&start=le2026-11-24T08:00:00.000%2B01:00"
            "&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|811000000007,"
            "urn:oid:1.2.250.1.71.4.2.1|899999999999&status=free HTTP/1.1");
  EXPECT_THAT(request, HasSubstr("\r\nAccept: application/fhir+json\r\n"));
}

TEST_F(SimulatorTest, LoadPrintsOneJsonObjectWithRequestsAndNoErrors) {
  std::vector<std::string> argv = {bin("sas-sim"), "load", "--base", base()};
  for (auto& a : tls()) argv.push_back(a);
  for (auto& a :
       std::vector<std::string>{"--agenda", agenda().string(), "--practitioners-per-search", "10", "--window-hours",
                                "48", "--concurrency", "4", "--duration", "2", "--seed", "3", "--warmup", "0.5"}) {
    argv.push_back(a);
  }
  const auto started = std::chrono::steady_clock::now();
  auto result = run(argv, std::chrono::seconds(60));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_LT(took, std::chrono::seconds(2 + 1 + 5)) << "duration + warm-up + drain, with slack";
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 1) << result.out;
  json::object report = json::parse(result.out).as_object();
  EXPECT_GT(report.at("requests").to_number<int64_t>(), 0) << result.out;
  EXPECT_EQ(report.at("errors").to_number<int64_t>(), 0) << result.out;
  EXPECT_GT(report.at("searches_per_s").to_number<double>(), 0);
  const auto& latency = report.at("latency_ms").as_object();
  const double p50 = latency.at("p50").to_number<double>(), p90 = latency.at("p90").to_number<double>(),
               p99 = latency.at("p99").to_number<double>(), max = latency.at("max").to_number<double>();
  EXPECT_GT(p50, 0);
  EXPECT_LE(p50, p90);
  EXPECT_LE(p90, p99);
  EXPECT_LE(p99, max);
  // Keep-alive: one connection per thread for the whole run.
  EXPECT_EQ(report.at("connections").to_number<int64_t>(), 4) << result.out;
}

TEST_F(SimulatorTest, LoadRefusesImpossibleSettings) {
  std::vector<std::string> argv = {bin("sas-sim"), "load", "--base", base()};
  for (auto& a : tls()) argv.push_back(a);
  for (auto& a :
       std::vector<std::string>{"--agenda", agenda().string(), "--practitioners-per-search", "41", "--duration", "1"}) {
    argv.push_back(a);
  }
  auto too_many = run(argv);
  EXPECT_EQ(too_many.exit_code, 2);
  EXPECT_THAT(too_many.err, HasSubstr("fewer than --practitioners-per-search 41"));

  argv.back() = "0";
  argv[argv.size() - 3] = "5";
  auto no_time = run(argv);
  EXPECT_EQ(no_time.exit_code, 2);
  EXPECT_THAT(no_time.err, HasSubstr("--duration"));
}

// ---- INT_R04, the CPTS search ------------------------------------------------------------------

TEST_F(SimulatorTest, SearchCptsShowsTheCptsEachSlotIsOpenTo) {
  const auto now = std::chrono::system_clock::now();
  auto search_cpts = [&](bool raw) {
    std::vector<std::string> argv = {bin("sas-sim"), "search", "--cpts", "--base", base()};
    for (auto& a : tls()) argv.push_back(a);
    for (auto& a : std::vector<std::string>{"--practitioners", join(*ids_, 25), "--from", paris(now), "--to",
                                            paris(now + std::chrono::hours(24 * 7))}) {
      argv.push_back(a);
    }
    if (raw) argv.push_back("--raw");
    return run(argv);
  };
  auto raw = search_cpts(true);
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  const json::object bundle = json::parse(raw.out).as_object();
  EXPECT_EQ(bundle.at("meta").at("profile").at(0),
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator");
  // The generated agenda opens some slots to one CPTS, some to two, some to CPTS only.
  std::map<std::string, std::string> names;  // Organization id -> name
  int one = 0, two = 0, cpts_only = 0;
  for (const auto& entry : bundle.at("entry").as_array()) {
    const auto& r = entry.at("resource").as_object();
    if (r.at("resourceType") == "Organization") names[std::string(r.at("id").as_string())] = r.at("name").as_string();
    if (r.at("resourceType") != "Slot") continue;
    int references = 0;
    for (const auto& st : r.at("serviceType").as_array()) references += st.as_object().contains("extension") ? 1 : 0;
    one += references == 1 ? 1 : 0;
    two += references == 2 ? 1 : 0;
    cpts_only += r.at("meta").at("security").as_array().size() == 1 && references > 0 ? 1 : 0;
  }
  EXPECT_GT(one, 0);
  EXPECT_GT(two, 0);
  EXPECT_GT(cpts_only, 0);
  ASSERT_FALSE(names.empty());

  auto summary = search_cpts(false);
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_THAT(summary.out, HasSubstr("HTTP 200, total " + std::to_string(bundle.at("total").as_int64())));
  for (const auto& [id, name] : names) EXPECT_THAT(summary.out, HasSubstr("for " + name)) << summary.out;
  EXPECT_THAT(summary.out, testing::ContainsRegex("  for CPTS [^(]+ \\(1[0-9]{9}, \\+33[0-9]{9}\\), CPTS "))
      << "a slot open to two CPTS, each with its FINESS and phone";
  EXPECT_THAT(summary.out, testing::Not(testing::ContainsRegex("(  |,)604(,|  |$)")))
      << "a CPTS (TRE_R66 604) is not a consultation mode";
}

TEST(SimulatorWireTest, SearchCptsSendsTheIgsQuery) {
  const std::string body = R"({"resourceType":"Bundle","type":"searchset","total":0})";
  WireRecorder recorder("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  const std::string any_file = (sas::test::source_dir() / "README.md").string();
  auto result =
      run({bin("sas-sim"), "search", "--cpts", "--base", "http://127.0.0.1:" + std::to_string(recorder.port()),
           "--cert", any_file, "--key", any_file, "--ca", any_file, "--practitioners", "810002909371", "--from",
           "2024-06-12T16:20:00.000+02:00", "--to", "2024-06-12T17:20:00.000+02:00"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const std::string request = recorder.request();
  // specifications_techniques-cpts-recherche_creneaux, '+' of the offsets encoded.
  EXPECT_EQ(request.substr(0, request.find("\r\n")),
            "GET /Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference"
            "&_include:iterate=HealthcareService:organization&start=ge2024-06-12T16:20:00.000%2B02:00"
            "&start=le2024-06-12T17:20:00.000%2B02:00&schedule.actor:Practitioner.identifier="
            "urn:oid:1.2.250.1.71.4.2.1|810002909371&status=free HTTP/1.1");
}

TEST_F(SimulatorTest, LoadMixesCptsSearches) {
  auto load = [&](const std::string& percent) {
    std::vector<std::string> argv = {bin("sas-sim"), "load", "--base", base()};
    for (auto& a : tls()) argv.push_back(a);
    for (auto& a : std::vector<std::string>{"--agenda", agenda().string(), "--practitioners-per-search", "5",
                                            "--concurrency", "2", "--duration", "1", "--cpts-share", percent}) {
      argv.push_back(a);
    }
    return run(argv, std::chrono::seconds(60));
  };
  for (const char* percent : {"100", "50"}) {
    SCOPED_TRACE(percent);
    auto result = load(percent);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json::object report = json::parse(result.out).as_object();
    const int64_t requests = report.at("requests").to_number<int64_t>();
    const int64_t cpts = report.at("cpts_requests").to_number<int64_t>();
    EXPECT_GT(requests, 4) << result.out;
    EXPECT_EQ(report.at("errors").to_number<int64_t>(), 0) << result.out;
    EXPECT_EQ(report.at("cpts_share").to_number<int64_t>(), std::stoi(percent));
    if (std::string(percent) == "100") {
      EXPECT_EQ(cpts, requests);
    } else {
      EXPECT_GT(cpts, 0) << result.out;
      EXPECT_LT(cpts, requests) << result.out;
    }
  }
  auto refused = load("101");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("--cpts-share"));
}

// ---- The steady mode (--rate): the soak's load ---------------------------------------------------

class SteadyLoadTest : public SimulatorTest {
 protected:
  static std::vector<std::string> steady(const std::vector<std::string>& options,
                                         const std::string& base_url = base()) {
    std::vector<std::string> argv = {bin("sas-sim"), "load", "--base", base_url};
    for (auto& a : tls()) argv.push_back(a);
    argv.push_back("--agenda");
    argv.push_back(agenda().string());
    argv.insert(argv.end(), options.begin(), options.end());
    return argv;
  }
};

TEST_F(SteadyLoadTest, PacesSearchesAndAccountWritesAndSamplesTheHost) {
  const fs::path report_file = *dir_ / "steady-report.json";
  auto result =
      run(steady({"--rate", "20", "--duration", "4", "--mix", "search=70,account=30", "--host-pid",
                  std::to_string(host_->pid()), "--sample-interval", "1", "--settle-s", "1", "--max-rss-growth-pct",
                  "1000", "--practitioners-per-search", "10", "--report", report_file.string()}),
          std::chrono::seconds(60));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("rss(MiB)"));
  EXPECT_THAT(result.out, HasSubstr("PASSED"));
  const json::object report = json::parse(sas::test::read_file(report_file)).as_object();
  // Open loop: 20 requests a second for 4 s are 80 requests, however fast the answers come.
  EXPECT_EQ(report.at("requests_total").to_number<int64_t>(), 80);
  const auto& requests = report.at("requests").as_object();
  EXPECT_GT(requests.at("search").to_number<int64_t>(), 0);
  EXPECT_GT(requests.at("account").to_number<int64_t>(), 0) << "INT_R02 writes, 201 or 200 as expected";
  EXPECT_EQ(requests.at("event").to_number<int64_t>(), 0);
  EXPECT_EQ(report.at("errors").at("total").to_number<int64_t>(), 0) << result.out;
  const auto& samples = report.at("samples").as_array();
  ASSERT_GE(samples.size(), 5U) << "t=0, every second, and the end";
  double cpu = 0;
  for (const auto& s : samples) {
    EXPECT_GT(s.at("rss_kib").to_number<int64_t>(), 1024) << json::serialize(s);
    EXPECT_GE(s.at("cpu_s").to_number<double>(), cpu);
    cpu = s.at("cpu_s").to_number<double>();
  }
  EXPECT_GT(cpu, 0) << "the host worked";
  EXPECT_TRUE(report.at("verdict").at("passed").as_bool());
  EXPECT_EQ(report.at("rss").at("baseline_t_s").to_number<double>(), 1.0);
  EXPECT_EQ(report.at("rss").at("judged"), "anon");
  EXPECT_GT(report.at("rss").at("vmrss").at("final_kib").to_number<int64_t>(),
            report.at("rss").at("anon").at("final_kib").to_number<int64_t>());
}

TEST_F(SteadyLoadTest, FailsOnAnErrorAnswer) {
  // A wrong base path: every search gets the host's 404.
  auto result = run(steady({"--rate", "10", "--duration", "1"}, base() + "/no-such-base"), std::chrono::seconds(60));
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("search:http_404=10"));
  EXPECT_THAT(result.out, HasSubstr("FAILED; 10 error(s)"));
}

TEST_F(SteadyLoadTest, FailsWhenTheSampledProcessKeepsGrowing) {
  // A stand-in for a leaking host: 2 MiB more every 100 ms, sampled as --host-pid.
  sas::test::ChildProcess leak({"/usr/bin/python3", "-c",
                                "import time\nheld = []\nwhile True:\n    held.append(bytearray(2 << 20))\n"
                                "    time.sleep(0.1)\n"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(leak.running()) << leak.output();
  auto result = run(steady({"--rate", "10", "--duration", "3", "--host-pid", std::to_string(leak.pid()),
                            "--sample-interval", "0.5", "--settle-s", "1", "--max-rss-growth-pct", "10"}),
                    std::chrono::seconds(60));
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("errors: 0"));
  EXPECT_THAT(result.out, HasSubstr("FAILED; anonymous RSS grew "));
  EXPECT_THAT(result.out, HasSubstr("over the bound of 10.00 %"));
}

TEST_F(SteadyLoadTest, RefusesImpossibleSettings) {
  struct Case {
    std::vector<std::string> options;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--rate", "10", "--mix", "search=50"}, "the percentages add up to 50, not 100"},
      {{"--rate", "10", "--mix", "search=50,booking=50"}, "'booking': the kinds are search, account and event"},
      {{"--rate", "0"}, "--rate in (0, 10000]"},
      {{"--rate", "10", "--mix", "search=90,event=10"}, "needs --admin, --admin-token-file and --platform-db"},
      {{"--rate", "10", "--warmup", "1"}, "--rate does not take --warmup"},
      {{"--rate", "10", "--duration", "10", "--host-pid", std::to_string(host_->pid()), "--settle-s", "10"},
       "--settle-s must be shorter than --duration"},
      {{"--rate", "10", "--host-pid", "999999999"}, "--host-pid 999999999: no such process"},
      {{"--rate", "10", "--rss-measure", "pss"}, "--rss-measure pss: expected anon or vmrss"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.says);
    auto result = run(steady(c.options));
    EXPECT_EQ(result.exit_code, 2) << result.out;
    EXPECT_THAT(result.err, HasSubstr(c.says));
  }
}

}  // namespace
