// The origin=sas booking path end to end: the real `sas-sample-agenda serve` process, browsers
// played by libcurl with its cookie engine, and the agenda file checked with SQL. Regulator
// accounts are inserted directly into the agenda (INT_R02 creates them in production).
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/panel_token.hpp>
#include <sas/sim/agenda_generator.hpp>
#include <sas_test/browser.hpp>
#include <sas_test/support.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using sas::test::bin;
using testing::HasSubstr;
using testing::Not;

constexpr const char* kIdnps = "urn:oid:1.2.250.1.71.4.2.1";
constexpr const char* kIntrn = "urn:oid:1.2.250.1.213.3.6";
constexpr const char* kPassword = "correct horse battery";
constexpr const char* kSasId = "5b8a3c1e-2f4d-4e6a-9b7c-0d1e2f3a4b5c";
constexpr const char* kBookingPath = "/rdv/PTEST/PTEST-L1";

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// ---- the agenda file, by SQL ----

// The agenda file, through the test support's SQLite helpers (SQL NULL reads "NULL").
struct Db {
  fs::path file;
  void exec(const std::string& sql) const { sas::test::sqlite_exec(file, sql); }
  std::vector<std::vector<std::string>> rows(const std::string& sql) const {
    return sas::test::sqlite_rows(file, sql, "NULL");
  }
  std::string value(const std::string& sql) const {
    auto r = rows(sql);
    return r.empty() || r.front().empty() ? std::string("<none>") : r.front().front();
  }
};

// ---- a browser ----

using sas::test::Browser;
using sas::test::Page;

std::string html_unescape(std::string s) {
  for (auto [from, to] : {std::pair{"&amp;", "&"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}}) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) s.replace(at, strlen(from), to);
  }
  return s;
}

// The action of the form with this id ("" if none).
std::string form_action(const std::string& html, const std::string& id) {
  std::smatch m;
  if (std::regex_search(html, m, std::regex("<form id=\"" + id + "\" method=\"post\" action=\"([^\"]*)\""))) {
    return html_unescape(m[1]);
  }
  return "";
}

std::string csrf(const std::string& html) {
  std::smatch m;
  return std::regex_search(html, m, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\"")) ? std::string(m[1]) : "";
}

std::vector<std::string> slot_choices(const std::string& html) {
  std::vector<std::string> out;
  std::regex radio("name=\"slot_id\" value=\"([0-9]+)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), radio); it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

bool has_regulator_form(const Page& page) { return page.body.find("id=\"regulator-booking\"") != std::string::npos; }

// ---- the suite: one agenda, one app ----

class BookingE2e : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir_ = new fs::path(sas::test::make_temp_dir("booking"));
    // A realistic agenda starting tomorrow (Europe/Paris), so its slots are still to come.
    sas::sim::AgendaSpec spec;
    spec.practitioners = 5;
    spec.days = 3;
    spec.seed = 11;
    auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    spec.first_day = std::chrono::year_month_day(
        std::chrono::floor<std::chrono::days>(sas::sdk::datetime::to_paris_local(now)) + std::chrono::days(1));
    sas::sim::generate_agenda(agenda(), spec);

    // A practitioner of our own with known slots: which ones a regulator may book is checked below.
    const int64_t t = now_seconds() + 86400;
    Db db(agenda());
    db.exec(
        "INSERT INTO practitioner (id, national_id, family_name, given_names) VALUES ('PTEST', '810100050075', "
        "'Durand', 'Alice');"
        "INSERT INTO place (id, practitioner_id, address, postal_code, city, booking_url) VALUES ('PTEST-L1', "
        "'PTEST', '1 rue de la Paix', '75002', 'Paris', 'https://agenda.example.fr/rdv/PTEST/PTEST-L1');");
    auto slot = [&](int id, int64_t start, const char* status, const char* audiences, int walk_in) {
      db.exec("INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences, walk_in) VALUES (" +
              std::to_string(id) + ", 'PTEST-L1', " + std::to_string(start) + ", " + std::to_string(start + 1200) +
              ", '" + status + "', '" + audiences + "', " + std::to_string(walk_in) + ")");
    };
    for (int i = 0; i < 12; ++i) slot(900001 + i, t + i * 1800, "free", i % 2 == 0 ? "PUBLIC,SNP" : "SNP", 0);
    slot(900100, t + 100000, "busy", "PUBLIC", 0);
    slot(900101, t + 101000, "free", "PATIENTELE", 0);            // the doctor's own patients only
    slot(900102, t + 102000, "free", "PUBLIC", 1);                // walk-in: no appointment
    slot(900103, now_seconds() - 7200, "free", "PUBLIC,SNP", 0);  // already past

    auto account = [&](const std::string& id, const std::string& national_id, const std::string& sas_id,
                       const std::string& email, int active, bool terms) {
      db.exec(
          "INSERT INTO regulator_account (id, national_id, sas_id, family_name, given_names, email, active, "
          "terms_accepted_at, created_at, updated_at) VALUES ('" +
          id + "', " + (national_id.empty() ? "NULL" : "'" + national_id + "'") + ", " +
          (sas_id.empty() ? "NULL" : "'" + sas_id + "'") + ", 'Régulateur', '" + id + "', '" + email + "', " +
          std::to_string(active) + ", " + (terms ? "1700000000" : "NULL") + ", 1700000000, 1700000000)");
    };
    account("acc-idnps", "810002673899", "", "claire.martin@sas.test", 1, false);
    account("acc-intrn", "", kSasId, "paul.osnp@sas.test", 1, true);
    account("acc-inactive", "810003333335", "", "ines.retiree@sas.test", 0, true);
    account("acc-deactivated", "", "7c9e6679-7425-40de-944b-e07fc1f90ae7", "denis@sas.test", 1, true);
    account("acc-expiring", "", "9a1b2c3d-0000-4000-8000-000000000001", "eve@sas.test", 1, true);
    account("acc-plain", "810004444448", "", "pierre@sas.test", 1, true);
    for (const char* email : {"claire.martin@sas.test", "paul.osnp@sas.test", "ines.retiree@sas.test", "denis@sas.test",
                              "eve@sas.test", "pierre@sas.test"}) {
      auto r = sas::test::run({bin("sas-sample-agenda"), "set-password", "--agenda", agenda().string(), "--email",
                               email, "--password", kPassword});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    port_ = start(app_, {});
  }

  static void TearDownTestSuite() {
    delete app_;
    app_ = nullptr;
    std::error_code ignored;
    fs::remove_all(*dir_, ignored);
    delete dir_;
    dir_ = nullptr;
    curl_global_cleanup();
  }

  static uint16_t start(sas::test::ChildProcess*& process, const std::vector<std::string>& extra) {
    const uint16_t port = sas::test::free_port();
    std::vector<std::string> argv = {bin("sas-sample-agenda"), "serve",    "--agenda",
                                     agenda().string(),        "--listen", "127.0.0.1:" + std::to_string(port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = new sas::test::ChildProcess(argv);
    for (int i = 0; i < 1000 && process->output().find("listening on") == std::string::npos; ++i) {
      EXPECT_TRUE(process->running()) << process->output();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_THAT(process->output(), HasSubstr("listening on"));
    return port;
  }

  static fs::path agenda() { return *dir_ / "agenda.db"; }
  static std::string base(uint16_t port = port_) { return "http://127.0.0.1:" + std::to_string(port); }

  // From the SAS link (origin=sas) through the login form (and the terms, if asked) to the booking page.
  static Page sas_login(Browser& browser, const std::string& email, uint16_t port = port_,
                        const std::string& path = kBookingPath) {
    Page page = browser.get(base(port) + path + "?origin=sas");
    const std::string action = form_action(page.body, "login");
    EXPECT_FALSE(action.empty()) << page.body;
    if (action.empty()) return page;
    page =
        browser.post(base(port) + action, "email=" + browser.escape(email) + "&password=" + browser.escape(kPassword));
    const std::string terms = form_action(page.body, "terms");
    if (!terms.empty()) page = browser.post(base(port) + terms, "accept=yes&csrf=" + csrf(page.body));
    return page;
  }

  static inline fs::path* dir_ = nullptr;
  static inline sas::test::ChildProcess* app_ = nullptr;
  static inline uint16_t port_ = 0;
};

TEST_F(BookingE2e, WithoutOriginTheBookingUrlLeadsToTheLoginPageWithoutRights) {
  Browser browser;
  Page page = browser.get(base() + kBookingPath);
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.url, HasSubstr("/login?return="));
  EXPECT_THAT(page.url, Not(HasSubstr("origin")));
  EXPECT_THAT(page.body, HasSubstr("id=\"login-ordinary\""));
  EXPECT_FALSE(has_regulator_form(page));
}

TEST_F(BookingE2e, WithOriginNotLoggedInLeadsToALoginPageThatKeepsOriginSas) {
  Browser browser;
  Page page = browser.get(base() + kBookingPath + "?origin=sas");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.url, HasSubstr("/login?origin=sas&return=%2Frdv%2FPTEST%2FPTEST-L1"));
  EXPECT_THAT(page.body, HasSubstr("id=\"login-sas\""));
  EXPECT_THAT(form_action(page.body, "login"), HasSubstr("origin=sas"));
  EXPECT_FALSE(has_regulator_form(page));
}

TEST_F(BookingE2e, RegulatorLogsInAcceptsTermsAndBooksASasOriginAppointment) {
  Browser browser;
  Page page = browser.get(base() + kBookingPath + "?origin=sas");
  page = browser.post(base() + form_action(page.body, "login"),
                      "email=claire.martin%40sas.test&password=" + browser.escape(kPassword));
  // The session cookie: random, HttpOnly, SameSite=Lax.
  bool cookie_seen = false;
  for (const auto& h : page.headers) {
    if (h.rfind("Set-Cookie:", 0) == 0 && h.find("sas_sample_session=") != std::string::npos) {
      cookie_seen = true;
      EXPECT_THAT(h, HasSubstr("HttpOnly"));
      EXPECT_THAT(h, HasSubstr("SameSite=Lax"));
      EXPECT_TRUE(std::regex_search(h, std::regex("sas_sample_session=[0-9a-f]{64};"))) << h;
    }
  }
  EXPECT_TRUE(cookie_seen);
  // First login: the vendor's terms, and nothing bookable until accepted.
  EXPECT_THAT(page.url, HasSubstr("/terms?origin=sas"));
  EXPECT_FALSE(has_regulator_form(page));
  EXPECT_EQ(Db(agenda()).value("SELECT terms_accepted_at IS NULL FROM regulator_account WHERE id = 'acc-idnps'"), "1");
  const int64_t before_terms = now_seconds();
  page = browser.post(base() + form_action(page.body, "terms"), "accept=yes&csrf=" + csrf(page.body));
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.url, base() + kBookingPath + "?origin=sas");
  ASSERT_TRUE(has_regulator_form(page)) << page.body;
  EXPECT_GE(std::stoll(Db(agenda()).value("SELECT terms_accepted_at FROM regulator_account WHERE id = 'acc-idnps'")),
            before_terms);

  // Only the slots a regulator may book: free, to come, public/professional/SNP, not walk-in.
  auto slots = slot_choices(page.body);
  EXPECT_EQ(slots.size(), 12U);
  for (const char* hidden : {"900100", "900101", "900102", "900103"}) {
    EXPECT_THAT(slots, Not(testing::Contains(std::string(hidden))));
  }
  ASSERT_FALSE(slots.empty());
  const std::string slot = slots.front();

  const int64_t before = now_seconds();
  page = browser.post(base() + form_action(page.body, "regulator-booking"),
                      "slot_id=" + slot + "&patient=Dupont+Jean&csrf=" + csrf(page.body));
  const int64_t after = now_seconds();
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_THAT(page.body, HasSubstr("id=\"booked\""));

  Db db(agenda());
  auto rows = db.rows(
      "SELECT id, sas_origin, regulator_account_id, regulator_id_system, regulator_id_value, patient_label, "
      "booked_at, status FROM appointment WHERE slot_id = " +
      slot);
  ASSERT_EQ(rows.size(), 1U);
  const auto& a = rows.front();
  EXPECT_THAT(page.body, HasSubstr(a[0]));
  EXPECT_TRUE(std::regex_match(a[0], std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << a[0];
  EXPECT_EQ(a[1], "1");
  EXPECT_EQ(a[2], "acc-idnps");
  EXPECT_EQ(a[3], kIdnps);
  EXPECT_EQ(a[4], "810002673899");
  EXPECT_EQ(a[5], "Dupont Jean");
  EXPECT_GE(std::stoll(a[6]), before);
  EXPECT_LE(std::stoll(a[6]), after);
  EXPECT_EQ(a[7], "booked");
  EXPECT_EQ(db.value("SELECT status FROM slot WHERE id = " + slot), "busy");

  // The slot is gone from the page, and booking it again fails without a second appointment.
  page = browser.get(base() + kBookingPath + "?origin=sas");
  EXPECT_THAT(slot_choices(page.body), Not(testing::Contains(slot)));
  page = browser.post(base() + kBookingPath + "/book?origin=sas",
                      "slot_id=" + slot + "&patient=Autre&csrf=" + csrf(page.body));
  EXPECT_EQ(page.status, 409);
  EXPECT_EQ(db.value("SELECT count(*) FROM appointment WHERE slot_id = " + slot), "1");
  // A slot the doctor did not open to regulators cannot be booked by posting its id.
  for (const char* hidden : {"900100", "900101", "900102", "900103"}) {
    page = browser.post(base() + kBookingPath + "/book?origin=sas",
                        std::string("slot_id=") + hidden +
                            "&patient=X&csrf=" + csrf(browser.get(base() + kBookingPath + "?origin=sas").body));
    EXPECT_EQ(page.status, 409) << hidden;
    EXPECT_EQ(db.value(std::string("SELECT count(*) FROM appointment WHERE slot_id = ") + hidden), "0");
  }
}

TEST_F(BookingE2e, RegulatorWithoutNationalIdIsRecordedWithTheSasTechnicalId) {
  Browser browser;
  Page page = sas_login(browser, "paul.osnp@sas.test");
  ASSERT_TRUE(has_regulator_form(page)) << page.body;
  const std::string slot = slot_choices(page.body).at(0);
  page = browser.post(base() + form_action(page.body, "regulator-booking"),
                      "slot_id=" + slot + "&patient=Martin+Louise&csrf=" + csrf(page.body));
  ASSERT_EQ(page.status, 200) << page.body;
  Db db(agenda());
  auto rows = db.rows(
      "SELECT sas_origin, regulator_account_id, regulator_id_system, regulator_id_value FROM "
      "appointment WHERE slot_id = " +
      slot);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "acc-intrn", kIntrn, kSasId}));
  EXPECT_EQ(db.value("SELECT status FROM slot WHERE id = " + slot), "busy");
}

TEST_F(BookingE2e, TheSameAccountArrivingWithoutOriginSasHasNoRegulatorRights) {
  Browser browser;
  Page page = sas_login(browser, "paul.osnp@sas.test");
  ASSERT_TRUE(has_regulator_form(page));
  const std::string token = csrf(page.body);
  const std::string slot = slot_choices(page.body).at(0);

  page = browser.get(base() + kBookingPath);
  EXPECT_EQ(page.status, 403);
  EXPECT_THAT(page.body, HasSubstr("id=\"no-regulator-rights\""));
  EXPECT_FALSE(has_regulator_form(page));
  // Posting the booking form without origin=sas, even with the session's token: no booking.
  page = browser.post(base() + kBookingPath + "/book", "slot_id=" + slot + "&patient=X&csrf=" + token);
  EXPECT_EQ(page.status, 403);
  Db db(agenda());
  EXPECT_EQ(db.value("SELECT status FROM slot WHERE id = " + slot), "free");
  EXPECT_EQ(db.value("SELECT count(*) FROM appointment WHERE slot_id = " + slot), "0");
  // The rights come back with origin=sas in the same SAS session.
  EXPECT_TRUE(has_regulator_form(browser.get(base() + kBookingPath + "?origin=sas")));
}

TEST_F(BookingE2e, ALoginMadeWithoutSasGivesNoRightsEvenWithOriginAddedLater) {
  Browser browser;
  Page page = browser.get(base() + kBookingPath);  // the ordinary login
  page = browser.post(base() + form_action(page.body, "login"),
                      "email=pierre%40sas.test&password=" + browser.escape(kPassword));
  EXPECT_EQ(page.url, base() + kBookingPath);
  EXPECT_EQ(page.status, 403);
  EXPECT_THAT(page.body, HasSubstr("id=\"no-regulator-rights\""));
  EXPECT_FALSE(has_regulator_form(page));
  // Adding origin=sas by hand to that session: a new login from the SAS link is required.
  page = browser.get(base() + kBookingPath + "?origin=sas");
  EXPECT_THAT(page.url, HasSubstr("/login?origin=sas"));
  EXPECT_THAT(page.url, HasSubstr("why=session_not_from_sas"));
  EXPECT_FALSE(has_regulator_form(page));
  page = browser.post(base() + kBookingPath + "/book?origin=sas", "slot_id=900012&patient=X&csrf=x");
  EXPECT_FALSE(has_regulator_form(page));
  EXPECT_EQ(Db(agenda()).value("SELECT count(*) FROM appointment WHERE regulator_account_id = 'acc-plain'"), "0");
  // Logging in from the SAS link opens a SAS session.
  page = browser.post(base() + form_action(page.body, "login"),
                      "email=pierre%40sas.test&password=" + browser.escape(kPassword));
  EXPECT_TRUE(has_regulator_form(page)) << page.body;
}

TEST_F(BookingE2e, ForgedOriginParametersAreRefused) {
  Browser browser;
  Page page = sas_login(browser, "paul.osnp@sas.test");
  ASSERT_TRUE(has_regulator_form(page));
  const std::string token = csrf(page.body);
  const std::string slot = slot_choices(page.body).at(0);
  for (const char* query :
       {"origin=SAS", "Origin=sas", "origin=sas&origin=sas", "origin=sas&origin=x", "origin=sas2", "%6Frigin=sas",
        "origin=s%61s", "origin%3Dsas", "origin=sas%00", "origin[]=sas", "x=1;origin=sas", "origin="}) {
    page = browser.get(base() + kBookingPath + "?" + query);
    EXPECT_EQ(page.status, 400) << query;
    EXPECT_THAT(page.body, HasSubstr("id=\"refused\"")) << query;
    EXPECT_FALSE(has_regulator_form(page)) << query;
    page = browser.post(base() + kBookingPath + "/book?" + query, "slot_id=" + slot + "&patient=X&csrf=" + token);
    EXPECT_EQ(page.status, 400) << query;
  }
  // Look-alikes that are not origin parameters: ordinary arrivals, without rights.
  for (const char* query : {"xorigin=sas", "origins=sas", "x=%26origin%3Dsas"}) {
    page = browser.get(base() + kBookingPath + "?" + query);
    EXPECT_EQ(page.status, 403) << query;
    EXPECT_FALSE(has_regulator_form(page)) << query;
  }
  EXPECT_EQ(Db(agenda()).value("SELECT count(*) FROM appointment WHERE slot_id = " + slot), "0");
  // Without the session's form token, no booking either.
  page = browser.post(base() + kBookingPath + "/book?origin=sas", "slot_id=" + slot + "&patient=X");
  EXPECT_EQ(page.status, 403);
  std::string forged = token;  // one character changed (a token starting with "00" once made "00..." the real one)
  forged[0] = forged[0] == '0' ? '1' : '0';
  page = browser.post(base() + kBookingPath + "/book?origin=sas", "slot_id=" + slot + "&patient=X&csrf=" + forged);
  EXPECT_EQ(page.status, 403);
  EXPECT_EQ(Db(agenda()).value("SELECT count(*) FROM appointment WHERE slot_id = " + slot), "0");
}

TEST_F(BookingE2e, AnInactiveAccountIsRefused) {
  Browser browser;
  Page page = browser.get(base() + kBookingPath + "?origin=sas");
  page = browser.post(base() + form_action(page.body, "login"),
                      "email=ines.retiree%40sas.test&password=" + browser.escape(kPassword));
  EXPECT_EQ(page.status, 403);
  EXPECT_THAT(page.body, HasSubstr("id=\"refused\""));
  EXPECT_FALSE(has_regulator_form(page));
  EXPECT_FALSE(has_regulator_form(browser.get(base() + kBookingPath + "?origin=sas")));
}

TEST_F(BookingE2e, AnAccountDeactivatedWhileLoggedInLosesItsRightsAtOnce) {
  Browser browser;
  Page page = sas_login(browser, "denis@sas.test");
  ASSERT_TRUE(has_regulator_form(page)) << page.body;
  const std::string token = csrf(page.body);
  const std::string slot = slot_choices(page.body).at(0);

  Db db(agenda());
  db.exec("UPDATE regulator_account SET active = 0 WHERE id = 'acc-deactivated'");
  page = browser.post(base() + kBookingPath + "/book?origin=sas", "slot_id=" + slot + "&patient=X&csrf=" + token);
  EXPECT_EQ(page.status, 403);
  EXPECT_THAT(page.body, HasSubstr("id=\"refused\""));
  EXPECT_EQ(db.value("SELECT count(*) FROM appointment WHERE slot_id = " + slot), "0");
  EXPECT_EQ(db.value("SELECT status FROM slot WHERE id = " + slot), "free");
  // The session ended with the habilitation: reactivating the account does not revive it.
  db.exec("UPDATE regulator_account SET active = 1 WHERE id = 'acc-deactivated'");
  page = browser.get(base() + kBookingPath + "?origin=sas");
  EXPECT_THAT(page.url, HasSubstr("/login?origin=sas"));
  EXPECT_FALSE(has_regulator_form(page));
}

TEST_F(BookingE2e, AnExpiredSessionMustLogInAgain) {
  sas::test::ChildProcess* short_lived = nullptr;
  // Long enough for a login and its page under AddressSanitizer on a loaded machine (password hashing
  // is slow there): a 2-second session once expired again before the second login's page was drawn.
  const uint16_t port = start(short_lived, {"--session-seconds", "6"});
  std::unique_ptr<sas::test::ChildProcess> stop(short_lived);
  Browser browser;
  Page page = sas_login(browser, "eve@sas.test", port);
  ASSERT_TRUE(has_regulator_form(page)) << page.body;
  const std::string token = csrf(page.body);
  const std::string slot = slot_choices(page.body).at(0);

  std::this_thread::sleep_for(std::chrono::milliseconds(6500));
  page = browser.post(base(port) + kBookingPath + "/book?origin=sas", "slot_id=" + slot + "&patient=X&csrf=" + token);
  EXPECT_THAT(page.url, HasSubstr("/login?origin=sas"));
  EXPECT_THAT(page.url, HasSubstr("why=session_expired"));
  EXPECT_THAT(page.body, HasSubstr("expiré"));
  EXPECT_FALSE(has_regulator_form(page));
  EXPECT_EQ(Db(agenda()).value("SELECT count(*) FROM appointment WHERE slot_id = " + slot), "0");
  // Logging in again gives the rights back.
  page = browser.post(base(port) + form_action(page.body, "login"),
                      "email=eve%40sas.test&password=" + browser.escape(kPassword));
  EXPECT_TRUE(has_regulator_form(page)) << page.body;
}

TEST_F(BookingE2e, AWrongPasswordOpensNoSession) {
  Browser browser;
  Page page = browser.get(base() + kBookingPath + "?origin=sas");
  const std::string action = form_action(page.body, "login");
  for (const char* form : {"email=paul.osnp%40sas.test&password=wrong", "email=nobody%40sas.test&password=x",
                           "email=paul.osnp%40sas.test", ""}) {
    page = browser.post(base() + action, form);
    EXPECT_EQ(page.status, 401) << form;
    EXPECT_THAT(page.body, HasSubstr("id=\"login-error\"")) << form;
  }
  EXPECT_FALSE(has_regulator_form(browser.get(base() + kBookingPath + "?origin=sas")));
}

TEST_F(BookingE2e, LogoutEndsTheRights) {
  Browser browser;
  Page page = sas_login(browser, "paul.osnp@sas.test");
  ASSERT_TRUE(has_regulator_form(page));
  browser.post(base() + "/logout", "");
  page = browser.get(base() + kBookingPath + "?origin=sas");
  EXPECT_THAT(page.url, HasSubstr("/login?origin=sas"));
  EXPECT_FALSE(has_regulator_form(page));
}

TEST_F(BookingE2e, TheBookingUrlsTheGeneratorWritesAreServed) {
  Db db(agenda());
  auto places = db.rows("SELECT booking_url FROM place WHERE practitioner_id <> 'PTEST' ORDER BY id");
  ASSERT_FALSE(places.empty());
  Browser browser;
  for (const auto& row : places) {
    const std::string prefix = "https://agenda.example.fr";
    ASSERT_EQ(row[0].rfind(prefix, 0), 0U) << row[0];
    const std::string path = row[0].substr(prefix.size());
    Page page = browser.get(base() + path + "?origin=sas");
    EXPECT_EQ(page.status, 200) << path;
    EXPECT_THAT(page.url, HasSubstr("/login?origin=sas")) << path;
  }
  const std::string path = places.front()[0].substr(std::string("https://agenda.example.fr").size());
  Page page = sas_login(browser, "paul.osnp@sas.test", port_, path);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.url, base() + path + "?origin=sas");
  EXPECT_THAT(page.body, HasSubstr("id=\"regulator\""));
  // Unknown places are a plain 404, even for a regulator.
  EXPECT_EQ(browser.get(base() + "/rdv/PNOPE/PNOPE-L1?origin=sas").status, 404);
}

TEST_F(BookingE2e, SetPasswordNeedsExactlyOneAccount) {
  auto r = sas::test::run({bin("sas-sample-agenda"), "set-password", "--agenda", agenda().string(), "--email",
                           "nobody@sas.test", "--password", kPassword});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("0 regulator accounts"));
  r = sas::test::run({bin("sas-sample-agenda"), "set-password", "--agenda", agenda().string(), "--email",
                      "paul.osnp@sas.test", "--password", "short"});
  EXPECT_EQ(r.exit_code, 2);
  // Stored as a salted PBKDF2 hash, never the password.
  auto hash = Db(agenda()).value("SELECT password_hash FROM regulator_account WHERE id = 'acc-intrn'");
  EXPECT_TRUE(std::regex_match(hash, std::regex("pbkdf2_sha256\\$600000\\$[0-9a-f]{32}\\$[0-9a-f]{64}"))) << hash;
  EXPECT_THAT(hash, Not(HasSubstr("horse")));
}

// The doctor's SAS panel (docs/doctor-panel.md): the page frames the host's /panel/ with a token
// minted here for that doctor only, which the host's own verification accepts.
TEST_F(BookingE2e, TheDoctorsSasPageFramesThePanelWithATokenForThatDoctor) {
  const fs::path key_file = *dir_ / "panel.key";
  const std::string key = "0123456789abcdef0123456789abcdef-panel";
  std::ofstream(key_file) << key << "\n";
  sas::test::ChildProcess* app = nullptr;
  const uint16_t port =
      start(app, {"--panel-key-file", key_file.string(), "--panel-admin-base", "https://127.0.0.1:8444/"});
  std::unique_ptr<sas::test::ChildProcess> stop(app);

  Browser browser;
  const Page page = browser.get(base(port) + "/medecin/PTEST/sas");
  ASSERT_EQ(page.status, 200) << page.body;
  std::string policy;
  for (const auto& h : page.headers) {
    if (h.rfind("Content-Security-Policy:", 0) == 0) policy = h;
  }
  EXPECT_THAT(policy, HasSubstr("frame-src https://127.0.0.1:8444/panel/;"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page.body, m,
                                std::regex("<iframe id=\"sas-panel\"[^>]* src=\"https://127\\.0\\.0\\.1:8444/panel/"
                                           "#token=([A-Za-z0-9_.-]+)\"")))
      << page.body;
  const std::string token = m[1];
  namespace pt = sas::sdk::panel_token;
  const auto claims = pt::verify_panel_token(key, token, std::chrono::system_clock::now());
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->practitioner, "810100050075");
  EXPECT_EQ(claims->subject, "agenda:medecin-PTEST");
  EXPECT_LE(claims->expires_at - claims->issued_at, std::chrono::seconds(900));
  EXPECT_FALSE(
      pt::verify_panel_token("another-key-of-at-least-32-characters", token, std::chrono::system_clock::now()));
  EXPECT_THAT(browser.get(base(port) + "/").body, HasSubstr("href=\"/medecin/PTEST/sas\""));
  EXPECT_EQ(browser.get(base(port) + "/medecin/NOBODY/sas").status, 404);
  // Without a panel key, no such page.
  EXPECT_EQ(browser.get(base() + "/medecin/PTEST/sas").status, 404);

  const auto refused = [&](std::vector<std::string> extra, const std::string& why) {
    std::vector<std::string> argv = {bin("sas-sample-agenda"), "serve",    "--agenda",
                                     agenda().string(),        "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = sas::test::run(argv);
    EXPECT_EQ(r.exit_code, 2) << why;
    EXPECT_THAT(r.err, HasSubstr("--panel-")) << why;
  };
  refused({"--panel-key-file", key_file.string()}, "a key without the host's address");
  refused({"--panel-key-file", key_file.string(), "--panel-admin-base", "http://127.0.0.1:8444"}, "not https");
  refused({"--panel-key-file", key_file.string(), "--panel-admin-base", "https://127.0.0.1:8444/x"}, "a path");
  std::ofstream(*dir_ / "short.key") << "short";
  refused({"--panel-key-file", (*dir_ / "short.key").string(), "--panel-admin-base", "https://127.0.0.1:8444"},
          "a short key");
}

TEST_F(BookingE2e, ServeRefusesANonLoopbackAddress) {
  auto r = sas::test::run({bin("sas-sample-agenda"), "serve", "--agenda", agenda().string(), "--listen", "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("loopback"));
}

}  // namespace
