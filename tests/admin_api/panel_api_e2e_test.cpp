// The doctor's panel, back end (issue #18; docs/doctor-panel.md, "Access"): the real `sas-host
// serve` with the reference plugin on a hand-made agenda of two doctors, the admin listener with
// a panel key, called over HTTPS with libcurl (no client certificate: a panel page has none).
// A panel token of doctor A reads and changes A, and its changes show in real FHIR searches over
// mutual TLS and in the history under the token's subject; it never reaches doctor B nor any
// route outside the panel's; expired, forged, alg-none tokens are refused; the consultations
// report; the panel's files, served with their Content-Security-Policy.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sas_test/host_log.hpp>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <map>
#include <sas/host/billing/json.hpp>
#include <sas/host/billing/rules.hpp>
#include <sas/host/billing/service.hpp>
#include <sas/host/store/store.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/panel_token.hpp>
#include <set>

#include "agenda_db.hpp"
#include "bundle_view.hpp"
#include "e2e_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace bv = sas::test::bundle;
namespace pb = sas::plugin::v1;
namespace pt = sas::sdk::panel_token;
using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;

const std::string kDoctorA = "810001234567";  // stored unprefixed in the agenda
const std::string kDoctorB = "810007654321";
const std::string kAdminToken = "0123456789abcdef0123456789abcdef-admin";
const std::string kPanelKey = "panel-key-0123456789abcdef0123456789abcdef";
const std::string kFrameAncestors = "https://agenda.example.fr http://127.0.0.1:8080";
const std::string kSubject = "dr-a@vendor";

// The agenda's slots start on the next whole hour 2 days from now (searches look ahead).
const int64_t kDay0 =
    (std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() /
         3600 +
     48) *
    3600;

pb::SearchSlotsResponse agenda() {
  pb::SearchSlotsResponse r;
  sas::e2e::add_paris_doctor(r, "a", "10001234567", "MARTIN");
  sas::e2e::add_paris_doctor(r, "b", "10007654321", "DURAND");
  auto slot = [&](const std::string& id, const std::string& doctor_id, int64_t start) {
    auto* s = r.add_slots();
    s->set_id(id);
    s->set_place_id("place-" + doctor_id);
    s->set_start(start);
    s->set_end(start + 900);
    s->set_status(pb::SLOT_FREE);
    s->add_audiences(pb::AUDIENCE_PUBLIC);
    s->add_motives("Consultation");
    s->add_modes(pb::MODE_AT_PRACTICE);
  };
  slot("a1", "a", kDay0);
  slot("a2", "a", kDay0 + 3600);
  slot("b1", "b", kDay0);
  return r;
}

std::string url_time(int64_t seconds) {
  std::string text = sas::sdk::datetime::format_utc(*sas::sdk::datetime::from_epoch_seconds(seconds), false);
  const auto plus = text.find('+');
  return text.replace(plus, 1, "%2B");
}

// One HTTPS exchange, with libcurl, trusting the test CA and presenting no client certificate
// unless `cert` names one of the PKI.
struct Answer {
  long status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;  // names lower-case

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  json::object json() const {
    boost::system::error_code ec;
    auto value = json::parse(body, ec);
    if (ec || !value.is_object())
      throw std::runtime_error("not a JSON object (" + std::to_string(status) + "): " + body);
    return value.as_object();
  }
  std::string message() const {
    try {
      return std::string(json().at("error").at("message").as_string());
    } catch (const std::exception&) {
      return body;
    }
  }
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<Answer*>(out)->body.append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* out) {
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    static_cast<Answer*>(out)->headers.emplace(name, value);
  }
  return size * n;
}

Answer exchange(const fs::path& pki, const std::string& method, const std::string& url, const std::string& token,
                const std::string& body = "", const std::string& cert = "") {
  Answer answer;
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  if (!token.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // send /panel/../ as written
  curl_easy_setopt(curl, CURLOPT_CAINFO, (pki / "ca.pem").c_str());
  if (!cert.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, (pki / (cert + ".pem")).c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, (pki / (cert + "-key.pem")).c_str());
  }
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer);
  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) throw std::runtime_error(method + " " + url + ": " + curl_easy_strerror(code));
  return answer;
}

std::string mint(const std::string& practitioner, std::chrono::seconds ttl = 10min, const std::string& key = kPanelKey,
                 const std::string& subject = kSubject) {
  return pt::mint_panel_token(key, pt::claims_for(subject, practitioner, ttl));
}

std::string b64url(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

void write_private(const fs::path& file, const std::string& content) {
  sas::test::write_file(file, content + "\n");
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

// Two consultations of the SNP report: one of A, one of B, in the week of Monday 23 November
// 2026, judged and recorded by the billing service with the shipped rules.
void record_consultations(const std::string& store_url) {
  const auto store = sas::host::store::open(store_url);
  const auto rules = std::make_shared<const sas::host::billing::RuleBook>(
      sas::host::billing::RuleBook::load(sas::test::source_dir() / "host/billing/rules/rules.json"));
  const sas::host::billing::BillingService service(rules, store.consultations);
  for (const auto& [id, doctor] : {std::pair{"c-a1", kDoctorA}, std::pair{"c-b1", kDoctorB}}) {
    service.report(sas::host::billing::parse_consultation(
        std::string(R"({"consultation_id":")") + id + R"(","practitioner":")" + doctor +
        R"(","consulted_at":"2026-11-24T10:00:00+01:00","regulated_at":"2026-11-23T16:00:00+01:00",)"
        R"("medecin_traitant":false,"specialty":"SM54","opposable_tariff":true,"other_codes":["G"]})"));
  }
}

class PanelApi : public testing::Test {
 protected:
  void SetUp() override {
    start({"--panel-key-file", (dir_ / "panel.key").string(), "--panel-frame-ancestors", kFrameAncestors});
  }

  PanelApi() : dir_(sas::test::make_temp_dir("panel-api")) {
    sas::e2e::write_pki(dir_ / "pki");
    const auto written = sas::e2e::write_agenda_db(agenda(), dir_ / "agenda.db");
    for (const auto& [name, row] : written.slot_ids) names_[std::to_string(row)] = name;
    write_private(dir_ / "admin.token", kAdminToken);
    write_private(dir_ / "panel.key", kPanelKey);
    record_consultations(store_url());
  }
  ~PanelApi() override {
    host_.reset();
    fs::remove_all(dir_);
  }

  std::string store_url() const { return "sqlite:" + (dir_ / "host.db").string(); }

  void start(const std::vector<std::string>& panel_options) {
    sas::e2e::HostOptions options;
    options.agenda = dir_ / "agenda.db";
    options.pki = dir_ / "pki";
    options.work = dir_;
    options.store = store_url();
    options.extra_arguments = {"--admin-listen", "127.0.0.1:0", "--admin-token-file", (dir_ / "admin.token").string()};
    options.extra_arguments.insert(options.extra_arguments.end(), panel_options.begin(), panel_options.end());
    host_ = std::make_unique<sas::e2e::Host>(options);
    ASSERT_TRUE(host_->log_contains("admin API listening on", 5000)) << host_->output();
    const uint16_t port = sas::test::listening_port(host_->output(), "admin");
    ASSERT_NE(port, 0) << host_->output();
    origin_ = "https://localhost:" + std::to_string(port);
  }

  Answer call(const std::string& method, const std::string& path, const std::string& token,
              const std::string& body = "") const {
    return exchange(dir_ / "pki", method, origin_ + path, token, body);
  }
  Answer api(const std::string& method, const std::string& path, const std::string& token,
             const std::string& body = "") const {
    return call(method, "/admin/v1" + path, token, body);
  }

  // The slots of A and B a real INT_R01 search returns, by the agenda's names.
  std::set<std::string> searched_slots() {
    sas::e2e::Client client(dir_ / "pki");
    const std::string query =
        "_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge" + url_time(kDay0 - 3600) + "&start=le" +
        url_time(kDay0 + 4 * 3600) +
        "&schedule.actor:Practitioner.identifier=" + sas::e2e::identifier_list({kDoctorA, kDoctorB}) + "&status=free";
    const auto r = client.get(host_->base() + "/Slot?" + query);
    EXPECT_EQ(r.status, 200) << r.describe();
    std::set<std::string> out;
    if (r.status != 200) return out;
    const auto bundle = r.json();
    for (const auto* slot : bv::resources(bundle, "Slot"))
      out.insert(names_.at(std::string(slot->at("id").as_string())));
    return out;
  }

  fs::path dir_;
  std::map<std::string, std::string> names_;
  std::unique_ptr<sas::e2e::Host> host_;
  std::string origin_;
};

void expect_panel_headers(const Answer& answer, const std::string& cache) {
  EXPECT_EQ(answer.header("content-security-policy"),
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors " +
                kFrameAncestors);
  EXPECT_EQ(answer.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(answer.header("referrer-policy"), "no-referrer");
  EXPECT_EQ(answer.header("cache-control"), cache);
}

TEST_F(PanelApi, ADoctorsTokenReadsAndChangesThatDoctor) {
  const std::string token = mint("10001234567");  // unprefixed: the token carries the prefixed form
  auto session = api("GET", "/panel/session", token);
  ASSERT_EQ(session.status, 200) << session.body;
  EXPECT_EQ(session.json().at("practitioner").as_string(), kDoctorA);
  EXPECT_EQ(session.json().at("subject").as_string(), kSubject);
  const auto claims = pt::verify_panel_token(kPanelKey, token, pt::Clock::now());
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(session.json().at("expires_at").as_string(),
            sas::sdk::datetime::format_paris(
                std::chrono::time_point_cast<std::chrono::milliseconds>(claims->expires_at), false));
  expect_panel_headers(session, "no-store");

  EXPECT_EQ(searched_slots(), (std::set<std::string>{"a1", "a2", "b1"}));
  auto patched = api("PATCH", "/practitioners/" + kDoctorA + "/settings", token, R"({"visible":false})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json().at("visible"), false);
  expect_panel_headers(patched, "no-store");
  EXPECT_EQ(searched_slots(), (std::set<std::string>{"b1"})) << "A hid herself through the panel";
  // Any spelling of A's id is A.
  auto read = api("GET", "/practitioners/10001234567/settings", token);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.json().at("visible"), false);

  // changed_by is the token's subject; another one is refused, the same one accepted.
  auto other_author = api("PATCH", "/practitioners/" + kDoctorA + "/settings", token,
                          R"({"visible":true,"changed_by":"someone-else"})");
  EXPECT_EQ(other_author.status, 400);
  EXPECT_THAT(other_author.message(), HasSubstr("recorded as the token's subject 'dr-a@vendor'"));
  auto same_author = api("PATCH", "/practitioners/" + kDoctorA + "/settings", token,
                         R"({"visible":true,"volunteer":true,"changed_by":"dr-a@vendor"})");
  ASSERT_EQ(same_author.status, 200) << same_author.body;
  EXPECT_EQ(searched_slots(), (std::set<std::string>{"a1", "a2", "b1"}));

  // Rules: add, list, remove.
  auto added =
      api("POST", "/practitioners/" + kDoctorA + "/rules", token, R"({"kind":"hide-motives","motives":["IVG"]})");
  ASSERT_EQ(added.status, 201) << added.body;
  const int64_t rule = added.json().at("id").as_int64();
  auto rules = api("GET", "/practitioners/" + kDoctorA + "/rules", token);
  ASSERT_EQ(rules.status, 200) << rules.body;
  EXPECT_EQ(rules.json().at("rules").as_array().size(), 1U);
  EXPECT_EQ(
      api("DELETE", "/practitioners/" + kDoctorA + "/rules/" + std::to_string(rule) + "?changed_by=x", token).status,
      400);
  EXPECT_EQ(api("DELETE", "/practitioners/" + kDoctorA + "/rules/" + std::to_string(rule), token).status, 204);

  // The history: every change under the token's subject, through the panel.
  auto history = api("GET", "/practitioners/" + kDoctorA + "/settings/history", token);
  ASSERT_EQ(history.status, 200) << history.body;
  const auto history_json = history.json();
  const auto& changes = history_json.at("changes").as_array();
  ASSERT_EQ(changes.size(), 3U) << history.body;  // visible off, visible on, volunteer on
  for (const auto& change : changes) {
    EXPECT_EQ(change.at("changed_by").as_string(), kSubject);
    EXPECT_EQ(change.at("source"), "panel");
  }

  // Explain and the forfait report of A.
  auto explain = api(
      "GET",
      "/practitioners/" + kDoctorA + "/explain?start=" + url_time(kDay0 - 3600) + "&end=" + url_time(kDay0 + 4 * 3600),
      token);
  ASSERT_EQ(explain.status, 200) << explain.body;
  EXPECT_EQ(explain.json().at("slots").as_array().size(), 2U);
  auto forfait = api("GET", "/reports/forfait?year=2026&practitioner=10001234567", token);
  ASSERT_EQ(forfait.status, 200) << forfait.body;
  ASSERT_EQ(forfait.json().at("doctors").as_array().size(), 1U);
  EXPECT_EQ(forfait.json().at("doctors").at(0).at("practitioner").as_string(), kDoctorA);

  // The log names the subject and the practitioner, never the token.
  EXPECT_TRUE(host_->log_contains("client panel:dr-a@vendor for " + kDoctorA)) << host_->output();
  EXPECT_THAT(host_->output(), Not(HasSubstr(token.substr(token.rfind('.')))));
}

TEST_F(PanelApi, ADoctorsTokenNeverReachesAnotherDoctorNorOtherRoutes) {
  const std::string token = mint(kDoctorA);
  for (const std::string& b : {kDoctorB, std::string("10007654321")}) {
    const std::string p = "/practitioners/" + b;
    const std::vector<std::pair<std::string, std::string>> requests = {
        {"GET", p + "/settings"},
        {"PATCH", p + "/settings"},
        {"GET", p + "/settings/history"},
        {"GET", p + "/rules"},
        {"POST", p + "/rules"},
        {"DELETE", p + "/rules/1"},
        {"GET", p + "/explain?start=" + url_time(kDay0 - 3600) + "&end=" + url_time(kDay0 + 3600)},
        {"GET", p + "/consultations?from=2026-11-23&to=2026-11-29"},
        {"GET", "/reports/forfait?year=2026&practitioner=" + b}};
    for (const auto& [method, path] : requests) {
      const std::string body = method == "PATCH"  ? R"({"visible":false})"
                               : method == "POST" ? R"({"kind":"hide-motives","motives":["IVG"]})"
                                                  : "";
      const auto answer = api(method, path, token, body);
      EXPECT_EQ(answer.status, 403) << method << " " << path << ": " << answer.body;
      EXPECT_THAT(answer.message(), HasSubstr("this panel token is for practitioner " + kDoctorA + " only"))
          << method << " " << path;
    }
  }
  // Every doctor's forfait at once, and the routes the panel does not use.
  EXPECT_EQ(api("GET", "/reports/forfait?year=2026", token).status, 403);
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/admin/v1/outbox"},
                                                        {"GET", "/admin/v1/plugin"},
                                                        {"POST", "/admin/v1/appointment-events"},
                                                        {"GET", "/admin/v1/practitioners/" + kDoctorA + "/other"},
                                                        {"GET", "/admin/v1/nothing"},
                                                        {"GET", "/metrics"}}) {
    const auto answer = call(method, path, token, method == "POST" ? "{}" : "");
    EXPECT_EQ(answer.status, 403) << method << " " << path << ": " << answer.body;
    EXPECT_THAT(answer.message(), HasSubstr("a panel token is accepted only on the panel's routes"));
  }
  // Nothing of B changed, as the admin sees it.
  auto history = api("GET", "/practitioners/" + kDoctorB + "/settings/history", kAdminToken);
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_TRUE(history.json().at("changes").as_array().empty()) << history.body;
  EXPECT_EQ(searched_slots(), (std::set<std::string>{"a1", "a2", "b1"}));
}

TEST_F(PanelApi, RefusesExpiredForgedAndOtherTokens) {
  const auto now = pt::Clock::now();
  const std::string expired = pt::mint_panel_token(kPanelKey, pt::PanelClaims{kSubject, kDoctorA, now - 2h, now - 1h});
  const std::string forged = mint(kDoctorA, 10min, kPanelKey + "-not-the-hosts");
  const std::string too_long = mint(kDoctorA, 2h);
  const std::string payload = b64url(
      R"({"aud":"sas-host-panel","sub":"x","practitioner":")" + kDoctorA + R"(","iat":)" +
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()) + R"(,"exp":)" +
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() + 600) + "}");
  const std::string alg_none = b64url(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
  const std::string admin_token_as_panel_key =
      pt::mint_panel_token(kAdminToken + "-padding", pt::claims_for(kSubject, kDoctorA, 10min));

  const auto expired_answer = api("GET", "/practitioners/" + kDoctorA + "/settings", expired);
  EXPECT_EQ(expired_answer.status, 401);
  EXPECT_THAT(expired_answer.message(), HasSubstr("the panel token has expired"));
  EXPECT_THAT(expired_answer.header("www-authenticate"), HasSubstr(R"(error="invalid_token")"));
  EXPECT_THAT(expired_answer.header("www-authenticate"), HasSubstr("expired"));
  expect_panel_headers(expired_answer, "no-store");

  for (const auto& [name, token] :
       std::vector<std::pair<std::string, std::string>>{{"forged", forged},
                                                        {"alg none", alg_none},
                                                        {"too long", too_long},
                                                        {"other key", admin_token_as_panel_key}}) {
    const auto answer = api("GET", "/practitioners/" + kDoctorA + "/settings", token);
    EXPECT_EQ(answer.status, 401) << name << ": " << answer.body;
    EXPECT_THAT(answer.message(), HasSubstr("the panel token is invalid")) << name;
    EXPECT_THAT(answer.header("www-authenticate"), HasSubstr(R"(error="invalid_token")")) << name;
    EXPECT_THAT(answer.body, Not(HasSubstr(token.substr(0, token.find('.'))))) << "never echoed: " << name;
    EXPECT_THAT(answer.body, Not(HasSubstr(payload))) << name;
  }
  EXPECT_THAT(api("GET", "/panel/session", alg_none).message(), HasSubstr("not HS256"));
  EXPECT_THAT(api("GET", "/panel/session", forged).message(), HasSubstr("signature does not match"));
  EXPECT_THAT(api("GET", "/panel/session", too_long).message(), HasSubstr("exceeds the host's limit of 3600 s"));

  // Nothing was changed; the admin token and an admin certificate work as before.
  EXPECT_EQ(api("GET", "/outbox", kAdminToken).status, 200);
  EXPECT_EQ(api("GET", "/panel/session", kAdminToken).status, 403);
  EXPECT_EQ(exchange(dir_ / "pki", "GET", origin_ + "/admin/v1/outbox", "", "", "client").status, 401)
      << "a certificate off the (empty) admin allow-list is no identity";
  auto history = api("GET", "/practitioners/" + kDoctorA + "/settings/history", kAdminToken);
  EXPECT_TRUE(history.json().at("changes").as_array().empty()) << history.body;
}

TEST_F(PanelApi, ConsultationsAsJsonAndCsv) {
  const std::string token = mint(kDoctorA);
  const std::string path = "/practitioners/" + kDoctorA + "/consultations?from=2026-11-23&to=2026-11-29";
  for (const std::string& who : {token, kAdminToken}) {
    const auto answer = api("GET", path, who);
    ASSERT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(answer.header("content-type"), "application/json");
    const auto report = answer.json();
    EXPECT_EQ(report.at("practitioner").as_string(), kDoctorA);
    const auto& consultations = report.at("consultations").as_array();
    ASSERT_EQ(consultations.size(), 1U) << answer.body;  // B's consultation is not A's
    EXPECT_EQ(consultations[0].at("consultation_id"), "c-a1");
    EXPECT_EQ(consultations[0].at("decision").at("code"), "SNP");
    EXPECT_EQ(report.at("totals").at("snp"), 1);
    EXPECT_EQ(report.at("totals").at("amount_euros"), "15.00");
    EXPECT_EQ(report.at("weeks").at(0).at("week_start"), "2026-11-23");
  }
  const auto csv = api("GET", path + "&format=csv", token);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.header("content-disposition"),
            "attachment; filename=\"sas-consultations-" + kDoctorA + "-2026-11-23-2026-11-29.csv\"");
  EXPECT_THAT(csv.body, testing::StartsWith("consultation_id,consulted_at,regulated_at,code,parcours_indicator,"
                                            "amount_euros,rule_set,week_start,week_snp_count,refusals_fr,refusals_en\n"
                                            "c-a1,2026-11-24T10:00:00+01:00,2026-11-23T16:00:00+01:00,SNP,U,15.00,"));
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 2);
  // The same as `sas-host report snp` prints from the store.
  const auto cli =
      sas::test::run({sas::test::bin("sas-host").string(), "report", "snp", "--store", store_url(), "--practitioner",
                      kDoctorA, "--from", "2026-11-23", "--to", "2026-11-29", "--format", "csv"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(csv.body, cli.out);

  // Bad periods and formats are 400s naming the parameter.
  const std::string base = "/practitioners/" + kDoctorA + "/consultations";
  EXPECT_THAT(api("GET", base + "?to=2026-11-29", token).message(), HasSubstr("parameter 'from' is required"));
  EXPECT_THAT(api("GET", base + "?from=23/11/2026&to=2026-11-29", token).message(), HasSubstr("parameter 'from'"));
  EXPECT_THAT(api("GET", base + "?from=2026-11-29&to=2026-11-23", token).message(),
              HasSubstr("'to' must not be before 'from'"));
  EXPECT_THAT(api("GET", base + "?from=2025-01-01&to=2026-11-29", token).message(), HasSubstr("limited to a year"));
  EXPECT_THAT(api("GET", base + "?from=2026-11-23&to=2026-11-29&format=xml", token).message(),
              HasSubstr("expected json or csv"));
}

TEST_F(PanelApi, ServesThePanelsFilesWithoutAnyIdentity) {
  const fs::path assets = sas::test::source_dir() / "host/panel/assets";
  const std::vector<std::pair<std::string, std::string>> files = {{"/panel/", "index.html"},
                                                                  {"/panel/index.html", "index.html"},
                                                                  {"/panel/panel.js", "panel.js"},
                                                                  {"/panel/panel.css", "panel.css"}};
  for (const auto& [path, file] : files) {
    const auto answer = call("GET", path, "");
    ASSERT_EQ(answer.status, 200) << path << ": " << answer.body;
    EXPECT_EQ(answer.body, sas::test::read_file(assets / file)) << path;
    expect_panel_headers(answer, "no-cache");
  }
  EXPECT_EQ(call("GET", "/panel/", "").header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(call("GET", "/panel/panel.js", "").header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(call("GET", "/panel/panel.css", "").header("content-type"), "text/css; charset=utf-8");
  // Every file of host/panel/assets is served.
  for (const auto& entry : fs::recursive_directory_iterator(assets)) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = fs::relative(entry.path(), assets).string();
    EXPECT_EQ(call("GET", "/panel/" + relative, "").status, 200) << relative;
  }

  const auto head = call("HEAD", "/panel/", "");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(sas::test::read_file(assets / "index.html").size()));
  expect_panel_headers(head, "no-cache");

  for (const std::string path : {"/panel/nothing.js", "/panel/../admin/v1/outbox", "/panel/%2e%2e/index.html",
                                 "/panel//index.html", "/panel/index.html/"}) {
    const auto answer = call("GET", path, "");
    EXPECT_EQ(answer.status, 404) << path << ": " << answer.body;
    EXPECT_THAT(answer.body, Not(HasSubstr("outbox\":"))) << path;
  }
  EXPECT_EQ(call("POST", "/panel/", "", "{}").status, 405);
  const auto moved = call("GET", "/panel", "");
  EXPECT_EQ(moved.status, 308);
  EXPECT_EQ(moved.header("location"), "/panel/");
  // The admin API itself still wants an identity.
  EXPECT_EQ(call("GET", "/admin/v1/outbox", "").status, 401);
}

TEST_F(PanelApi, TheCommandLineMintsWhatTheHostAccepts) {
  const auto minted =
      sas::test::run({sas::test::bin("sas-host").string(), "panel-token", "--key-file", (dir_ / "panel.key").string(),
                      "--practitioner", "10001234567", "--subject", "secrétariat", "--ttl-s", "300"});
  ASSERT_EQ(minted.exit_code, 0) << minted.err;
  const std::string token = minted.out.substr(0, minted.out.find('\n'));
  const auto claims = pt::verify_panel_token(kPanelKey, token, pt::Clock::now());
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->expires_at - claims->issued_at, 300s);
  auto session = api("GET", "/panel/session", token);
  ASSERT_EQ(session.status, 200) << session.body;
  EXPECT_EQ(session.json().at("subject"), "secrétariat");
  EXPECT_EQ(session.json().at("practitioner").as_string(), kDoctorA);

  const auto bad = sas::test::run({sas::test::bin("sas-host").string(), "panel-token", "--key-file",
                                   (dir_ / "panel.key").string(), "--practitioner", "12", "--subject", "x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("practitioner"));
}

class PanelOff : public PanelApi {
 protected:
  void SetUp() override { start({}); }
};

TEST_F(PanelOff, WithoutAKeyThereIsNoPanelAndNoPanelToken) {
  EXPECT_EQ(call("GET", "/panel/", "").status, 404);
  EXPECT_EQ(call("GET", "/panel/panel.js", "").status, 404);
  const auto answer = api("GET", "/practitioners/" + kDoctorA + "/settings", mint(kDoctorA));
  EXPECT_EQ(answer.status, 401);
  EXPECT_TRUE(answer.header("content-security-policy").empty());
  EXPECT_EQ(api("GET", "/practitioners/" + kDoctorA + "/settings", kAdminToken).status, 200);
}

class PanelConfig : public PanelApi {
 protected:
  void SetUp() override {}
  // `sas-host serve` with the admin listener and `extra`: its exit code and stderr, when it
  // refuses to start.
  sas::test::RunResult serve(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {sas::test::bin("sas-host").string(),
                                     "serve",
                                     "--plugin",
                                     sas::test::plugin("sas-sqlite-agenda").string(),
                                     "--plugin-config",
                                     "db=" + (dir_ / "agenda.db").string(),
                                     "--store",
                                     store_url(),
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--tls-cert",
                                     (dir_ / "pki/server.pem").string(),
                                     "--tls-key",
                                     (dir_ / "pki/server-key.pem").string(),
                                     "--client-ca",
                                     (dir_ / "pki/ca.pem").string(),
                                     "--allow-client-subject",
                                     "CN=sas.sante.fr,OU=SAS",
                                     "--admin-listen",
                                     "127.0.0.1:0",
                                     "--admin-token-file",
                                     (dir_ / "admin.token").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return sas::test::run(argv, std::chrono::seconds(20));
  }
};

TEST_F(PanelConfig, ServeRefusesABadPanelConfiguration) {
  write_private(dir_ / "same.key", kAdminToken);
  auto r = serve({"--panel-key-file", (dir_ / "same.key").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--panel-key-file holds the admin token"));

  write_private(dir_ / "short.key", "short");
  r = serve({"--panel-key-file", (dir_ / "short.key").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--panel-key-file"));

  fs::permissions(dir_ / "panel.key", fs::perms::group_read, fs::perm_options::add);
  r = serve({"--panel-key-file", (dir_ / "panel.key").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("chmod 600"));
  fs::permissions(dir_ / "panel.key", fs::perms::group_read, fs::perm_options::remove);

  r = serve(
      {"--panel-key-file", (dir_ / "panel.key").string(), "--panel-frame-ancestors", "https://agenda.example.fr/path"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--panel-frame-ancestors: 'https://agenda.example.fr/path'"));
  r = serve({"--panel-key-file", (dir_ / "panel.key").string(), "--panel-frame-ancestors", "http://agenda.example.fr"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("loopback"));
  r = serve({"--panel-key-file", (dir_ / "panel.key").string(), "--panel-token-max-ttl-s", "10"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--panel-token-max-ttl-s 10"));
  r = serve({"--panel-frame-ancestors", "'self'"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--panel-frame-ancestors needs --panel-key-file"));
}

}  // namespace
