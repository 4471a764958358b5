// End to end: a regulator books through the sample agenda page with origin=sas, the doctor
// marks the appointment honoured on the sample's consultation page, the reference plugin
// (the real .so in the real `sas-host serve`) reports the consultation through call_host, the
// host judges and records it, the decision comes back to the agenda's billing_decision table
// (synchronously and through apply_billing_decision), and `sas-host report snp` lists it.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <sas/host/billing/calendar.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sqlite_agenda/schema.hpp>
#include <sas_test/browser.hpp>
#include <sas_test/support.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using sas::test::bin;
using testing::HasSubstr;
using namespace std::chrono;

constexpr const char* kPassword = "correct horse battery";
constexpr const char* kDoctor = "810100050075";

int64_t now_seconds() { return duration_cast<seconds>(system_clock::now().time_since_epoch()).count(); }

// The agenda file, through the test support's SQLite helpers (SQL NULL reads "NULL").
struct Db {
  fs::path file;
  void exec(const std::string& sql) const { sas::test::sqlite_exec(file, sql); }
  std::vector<std::string> row(const std::string& sql) const {
    auto rows = sas::test::sqlite_rows(file, sql, "NULL");
    return rows.empty() ? std::vector<std::string>{} : rows.front();
  }
};

using sas::test::Browser;
using sas::test::Page;

std::string match(const std::string& html, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(html, m, std::regex(pattern))) return "";
  std::string out = m[1];
  for (auto at = out.find("&amp;"); at != std::string::npos; at = out.find("&amp;")) out.replace(at, 5, "&");
  return out;
}

// The first minute from `after` that is outside PDSA hours by the shipped rules, within 40 h:
// the consultation time the SNP path needs. (The rules themselves are tested table by table.)
std::optional<sas::sdk::datetime::Instant> ordinary_hours_after(sas::sdk::datetime::Instant after) {
  using namespace sas::host::billing;
  const RuleBook book = RuleBook::load(sas::test::build_dir() / "share/sas/billing/rules.json");
  for (auto t = after; t < after + hours(40); t += minutes(30)) {
    const auto local = floor<minutes>(sas::sdk::datetime::to_paris_local(t));
    const auto local_plus = floor<minutes>(sas::sdk::datetime::to_paris_local(t + minutes(30)));
    const RuleSet& rules = book.in_force(year_month_day{floor<days>(local)});
    if (!pdsa_period(rules, "", local) && !pdsa_period(rules, "", local_plus)) return t + minutes(10);
  }
  return std::nullopt;
}

class BillingE2e : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir_ = new fs::path(sas::test::make_temp_dir("billing-e2e"));
    {
      Db db(agenda());
      db.exec(sas::sqlite_agenda::schema_sql());
      db.exec(std::string("INSERT INTO practitioner (id, national_id, family_name, given_names) VALUES ('PTEST', '") +
              kDoctor +
              "', 'Durand', 'Alice');"
              "INSERT INTO practitioner_specialty (practitioner_id, code) VALUES ('PTEST', 'SM54');"
              "INSERT INTO place (id, practitioner_id, address, postal_code, city) VALUES ('PTEST-L1', 'PTEST', "
              "'1 rue de la Paix', '75002', 'Paris');"
              "INSERT INTO regulator_account (id, national_id, family_name, given_names, email, active, "
              "terms_accepted_at, created_at, updated_at) VALUES ('acc-1', '810002673899', 'Martin', 'Claire', "
              "'claire@sas.test', 1, 1700000000, 1700000000, 1700000000);");
      const int64_t t = now_seconds() + 86400;
      for (int i = 0; i < 6; ++i) {
        db.exec("INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences) VALUES (" +
                std::to_string(1 + i) + ", 'PTEST-L1', " + std::to_string(t + i * 1800) + ", " +
                std::to_string(t + i * 1800 + 1200) + ", 'free', 'PUBLIC,SNP')");
      }
    }
    auto r = sas::test::run({bin("sas-sample-agenda"), "set-password", "--agenda", agenda().string(), "--email",
                             "claire@sas.test", "--password", kPassword});
    ASSERT_EQ(r.exit_code, 0) << r.err;

    app_port_ = sas::test::free_port();
    app_ = new sas::test::ChildProcess({bin("sas-sample-agenda"), "serve", "--agenda", agenda().string(), "--listen",
                                        "127.0.0.1:" + std::to_string(app_port_)});
    std::vector<std::string> serve = {bin("sas-host"),     "serve",
                                      "--plugin",          sas::test::plugin("sas-sqlite-agenda").string(),
                                      "--plugin-config",   "db=" + agenda().string() + ";report_interval_ms=100",
                                      "--store",           store_url(),
                                      "--listen",          "127.0.0.1:0",
                                      "--allow-plain-http"};
    for (const auto& a : sas::test::plugin_isolation_args()) serve.push_back(a);
    host_ = new sas::test::ChildProcess(serve);
    for (int i = 0; i < 1000 && (app_->output().find("listening on") == std::string::npos ||
                                 host_->output().find("listening on") == std::string::npos);
         ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    ASSERT_THAT(app_->output(), HasSubstr("listening on"));
    ASSERT_THAT(host_->output(), HasSubstr("listening on"));
    ASSERT_NO_THROW(sas::test::expect_plugin_isolation(*host_));
  }

  static void TearDownTestSuite() {
    delete host_;
    delete app_;
    std::error_code ignored;
    fs::remove_all(*dir_, ignored);
    delete dir_;
    curl_global_cleanup();
  }

  static fs::path agenda() { return *dir_ / "agenda.db"; }
  static std::string store_url() { return "sqlite:" + (*dir_ / "host.db").string(); }
  static std::string base() { return "http://127.0.0.1:" + std::to_string(app_port_); }

  // A regulator books the next free slot with origin=sas; returns the appointment id.
  static std::string book(Browser& browser) {
    Page page = browser.get(base() + "/rdv/PTEST/PTEST-L1?origin=sas");
    const std::string login = match(page.body, "<form id=\"login\" method=\"post\" action=\"([^\"]*)\"");
    if (!login.empty()) {
      page = browser.post(base() + login, "email=claire%40sas.test&password=" + browser.escape(kPassword));
    }
    const std::string action = match(page.body, "<form id=\"regulator-booking\" method=\"post\" action=\"([^\"]*)\"");
    const std::string slot = match(page.body, "name=\"slot_id\" value=\"([0-9]+)\"");
    const std::string csrf = match(page.body, "name=\"csrf\" value=\"([0-9a-f]+)\"");
    EXPECT_FALSE(action.empty() || slot.empty()) << page.body;
    page = browser.post(base() + action, "slot_id=" + slot + "&patient=Dupont+Jean&csrf=" + csrf);
    EXPECT_EQ(page.status, 200) << page.body;
    return match(page.body, "data-appointment=\"([^\"]+)\"");
  }

  // The doctor marks it honoured on the consultation page; then waits for the host's decision
  // in the agenda's billing_decision table: {code, parcours_indicator, amount_cents, reasons_fr}.
  static std::vector<std::string> honour(Browser& browser, const std::string& appointment, const std::string& form) {
    Page page = browser.get(base() + "/consultations");
    const std::string action =
        match(page.body, "<form id=\"honour-" + appointment + "\" method=\"post\" action=\"([^\"]*)\"");
    EXPECT_FALSE(action.empty()) << page.body;
    page = browser.post(base() + action, form);
    EXPECT_EQ(page.status, 200) << page.body;
    for (int i = 0; i < 1500; ++i) {
      auto row = Db(agenda()).row(
          "SELECT code, parcours_indicator, amount_cents, reasons_fr FROM billing_decision WHERE consultation_id = '" +
          appointment + "'");
      if (!row.empty()) return row;
      std::this_thread::sleep_for(milliseconds(10));
    }
    ADD_FAILURE() << "no decision for " << appointment << "\n" << host_->output();
    return {};
  }

  static inline fs::path* dir_ = nullptr;
  static inline sas::test::ChildProcess* app_ = nullptr;
  static inline sas::test::ChildProcess* host_ = nullptr;
  static inline uint16_t app_port_ = 0;
};

TEST_F(BillingE2e, BookedThroughTheSamplePageHonouredReportedAndCoded) {
  auto when = ordinary_hours_after(floor<milliseconds>(system_clock::now()) + minutes(5));
  if (!when) GTEST_SKIP() << "no ordinary consultation hour in the next 40 h (holidays around a Sunday)";
  Browser browser;
  const std::string consulted_at = browser.escape(sas::sdk::datetime::format_paris(*when, false));

  // Not the médecin traitant, opposable, with G: SNP + U, 15 EUR.
  const std::string snp = book(browser);
  ASSERT_FALSE(snp.empty());
  auto decision = honour(browser, snp, "consulted_at=" + consulted_at + "&opposable=1&codes=G");
  ASSERT_EQ(decision.size(), 4U);
  EXPECT_EQ(decision[0], "SNP");
  EXPECT_EQ(decision[1], "U");
  EXPECT_EQ(decision[2], "1500");
  EXPECT_THAT(decision[3], HasSubstr("NGAP art. 14.1.3"));

  // The médecin traitant: MRT.
  const std::string mrt = book(browser);
  decision = honour(browser, mrt, "consulted_at=" + consulted_at + "&medecin_traitant=1&opposable=1&codes=G");
  ASSERT_EQ(decision.size(), 4U);
  EXPECT_EQ(decision[0], "MRT");
  EXPECT_EQ(decision[1], "");
  EXPECT_EQ(decision[2], "1500");

  // With MCG: refused, with the reason.
  const std::string refused = book(browser);
  decision = honour(browser, refused, "consulted_at=" + consulted_at + "&opposable=1&codes=G+MCG");
  ASSERT_EQ(decision.size(), 4U);
  EXPECT_EQ(decision[0], "");
  EXPECT_EQ(decision[2], "0");
  EXPECT_THAT(decision[3], HasSubstr("- Le SNP ne se cumule pas avec : MCG"));

  // The doctor's page shows the codes; the consultations were reported once each.
  Page page = browser.get(base() + "/consultations");
  EXPECT_THAT(page.body, HasSubstr("id=\"appointment-" + snp +
                                   "\" data-status=\"fulfilled\" data-code=\"SNP\" "
                                   "data-parcours=\"U\" data-amount-cents=\"1500\""));
  EXPECT_THAT(page.body, HasSubstr("data-code=\"MRT\""));
  // The plugin marks a consultation reported after the host's answer, which may come after the
  // decision row the page shows: wait for the mark rather than read it once.
  std::string reported;
  for (int i = 0; i < 200 && reported != "3"; ++i) {
    if (i != 0) std::this_thread::sleep_for(milliseconds(25));
    reported = Db(agenda()).row("SELECT count(*) FROM consultation WHERE reported_at IS NOT NULL")[0];
  }
  EXPECT_EQ(reported, "3");
  EXPECT_EQ(Db(*dir_ / "host.db").row("SELECT count(*) FROM sas_consultation")[0], "3");

  // The report, JSON and CSV.
  const auto day = floor<days>(sas::sdk::datetime::to_paris_local(*when));
  auto text = [](local_days d) {
    const year_month_day ymd{d};
    char out[16];
    std::snprintf(out, sizeof(out), "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    return std::string(out);
  };
  auto json = sas::test::run({bin("sas-host"), "report", "snp", "--store", store_url(), "--practitioner", kDoctor,
                              "--from", text(day - days(7)), "--to", text(day + days(7))});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"consultation_id\":\"" + snp + "\""));
  EXPECT_THAT(json.out, HasSubstr("\"totals\":{\"snp\":1,\"mrt\":1,\"none\":1,\"amount_euros\":\"30.00\""));
  EXPECT_THAT(json.out, HasSubstr("\"snp_count\":1"));
  auto csv = sas::test::run({bin("sas-host"), "report", "snp", "--store", store_url(), "--practitioner", kDoctor,
                             "--from", text(day - days(7)), "--to", text(day + days(7)), "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out,
              HasSubstr(snp + "," + sas::sdk::datetime::format_paris(*when - seconds(0), false).substr(0, 16)));
  EXPECT_THAT(csv.out, HasSubstr(",SNP,U,15.00,"));
  EXPECT_THAT(csv.out, HasSubstr(",MRT,,15.00,"));
  EXPECT_THAT(csv.out, HasSubstr(",none,,0.00,"));
  EXPECT_THAT(csv.out, HasSubstr("MCG"));
  EXPECT_THAT(host_->output(), testing::Not(HasSubstr("apply_billing_decision for consultation")));
}

TEST_F(BillingE2e, ExplainTakesTheWeeklyCountFromTheStoreNotTheFile) {
  // The file says 20 SNP already this week; the store (this suite's, with at most the SNP
  // recorded above) knows better.
  auto when = ordinary_hours_after(floor<milliseconds>(system_clock::now()) + minutes(5));
  if (!when) GTEST_SKIP() << "no ordinary consultation hour in the next 40 h";
  const fs::path file = *dir_ / "what-if.json";
  sas::test::write_file(file, std::string("{\"consultation_id\":\"what-if\",\"practitioner\":\"") + kDoctor +
                                  "\",\"consulted_at\":\"" + sas::sdk::datetime::format_paris(*when, false) +
                                  "\",\"regulated_at\":\"" + sas::sdk::datetime::format_paris(*when - hours(1), false) +
                                  "\",\"medecin_traitant\":false,\"specialty\":\"SM54\",\"opposable_tariff\":true,"
                                  "\"snp_count_this_week\":20}");
  auto with_store =
      sas::test::run({bin("sas-host"), "billing", "explain", "--json", file.string(), "--store", store_url()});
  ASSERT_EQ(with_store.exit_code, 0) << with_store.err;
  EXPECT_THAT(with_store.out, HasSubstr("\"code\":\"SNP\""));
  EXPECT_THAT(with_store.out, testing::Not(HasSubstr("\"snp_count_this_week\":20")));
  auto without = sas::test::run({bin("sas-host"), "billing", "explain", "--json", file.string()});
  ASSERT_EQ(without.exit_code, 0) << without.err;
  EXPECT_THAT(without.out, HasSubstr("\"code\":\"none\""));
  EXPECT_THAT(without.out, HasSubstr("21st SNP"));
}

}  // namespace
