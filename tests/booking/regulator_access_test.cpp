// The origin=sas decision (sas/sdk/regulator_access.hpp), over every combination of arrival,
// session and account. The expectations are written from the rules of INT_R02 and the issue:
//  - the habilitation is usable only when the account is active and the arrival came through
//    SAS; reached any other way, the account has no regulator rights;
//  - through SAS = exactly one `origin` parameter whose value is exactly `sas`; anything that
//    looks like an origin parameter but is not that is a forgery or an ambiguity: refused;
//  - rights live only in a session opened through SAS and end with it (expiry, incoherent times);
//  - not logged in (or expired) with origin=sas: the login page, keeping origin=sas;
//  - an inactive account never gets rights; a non-regulator account never gets regulator rights;
//  - first login: the vendor's terms must be accepted before any regulator action.
#include <gtest/gtest.h>

#include <sas/sdk/regulator_access.hpp>
#include <set>
#include <string>
#include <vector>

namespace {

namespace ra = sas::sdk::regulator_access;
using ra::Access;
using ra::Origin;
using ra::Reason;
using namespace std::chrono_literals;

const ra::Clock::time_point kNow = ra::Clock::time_point(std::chrono::seconds(1795462765));

struct ArrivalCase {
  std::string query;  // raw query string, as received
  Origin expected;
};

// Ordinary arrivals: no parameter that any parser would call `origin`.
const std::vector<ArrivalCase> kAbsent = {
    {"", Origin::absent},
    {"x=1", Origin::absent},
    {"xorigin=sas", Origin::absent},
    {"origin_=sas", Origin::absent},
    {"origins=sas", Origin::absent},
    {"originsas", Origin::absent},
    {"sas", Origin::absent},
    {"x=origin=sas", Origin::absent},
    {"origin.x=sas", Origin::absent},
    {"x=1#origin=sas", Origin::absent},  // in the fragment: never sent to a server, ignored
    {"#origin=sas", Origin::absent},
    {"a=%26origin%3Dsas", Origin::absent},  // inside another parameter's value
    {"redirect=%2Frdv%3Forigin%3Dsas", Origin::absent},
    {"%zzorigin=sas", Origin::absent},
    {"&&", Origin::absent},
};

// Through SAS: exactly one origin=sas; other parameters (the vendor's own, or forged identity
// parameters) change nothing, identity comes only from the session.
const std::vector<ArrivalCase> kSas = {
    {"origin=sas", Origin::sas},
    {"x=1&origin=sas", Origin::sas},
    {"origin=sas&x=1", Origin::sas},
    {"motif=suivi&origin=sas&lang=fr", Origin::sas},
    {"origin=sas#fragment", Origin::sas},
    {"origin=sas#origin=x", Origin::sas},
    {"&origin=sas&", Origin::sas},
    {"origin=sas&regulator=810002673899&account=acc-1&sas_id=0f0e&active=1&role=regulator", Origin::sas},
};

// Forged or ambiguous: refused, never through SAS.
const std::vector<ArrivalCase> kInvalid = {
    {"origin=SAS", Origin::invalid},
    {"origin=Sas", Origin::invalid},
    {"Origin=sas", Origin::invalid},
    {"ORIGIN=sas", Origin::invalid},
    {"origin=sas2", Origin::invalid},
    {"origin=xsas", Origin::invalid},
    {"origin=sass", Origin::invalid},
    {"origin=", Origin::invalid},
    {"origin", Origin::invalid},
    {"origin=x", Origin::invalid},
    {"origin=sas&origin=x", Origin::invalid},
    {"origin=x&origin=sas", Origin::invalid},
    {"origin=sas&origin=sas", Origin::invalid},
    {"origin=sas&Origin=x", Origin::invalid},
    {"origin=sas&origin", Origin::invalid},
    {"origin=s%61s", Origin::invalid},
    {"origin=%73%61%73", Origin::invalid},
    {"%6Frigin=sas", Origin::invalid},
    {"%6frigin=sas", Origin::invalid},
    {"%6F%72%69%67%69%6E=sas", Origin::invalid},
    {"origin%3Dsas", Origin::invalid},
    {"origin%3dsas&x=1", Origin::invalid},
    {"origin=sas%00", Origin::invalid},
    {"origin%00=sas", Origin::invalid},
    {"origin%00x=sas", Origin::invalid},
    {"origin=sas+", Origin::invalid},
    {"origin=+sas", Origin::invalid},
    {"origin=%20sas", Origin::invalid},
    {"origin=sas%20", Origin::invalid},
    {"origin+=sas", Origin::invalid},
    {"+origin=sas", Origin::invalid},
    {"%20origin=sas", Origin::invalid},
    {"origin%09=sas", Origin::invalid},
    {"origin[]=sas", Origin::invalid},
    {"origin[0]=sas", Origin::invalid},
    {"origin=sas;x=1", Origin::invalid},
    {"x=1;origin=sas", Origin::invalid},
    {"origin=sas;origin=x", Origin::invalid},
    {"origin=sas%26x%3D1", Origin::invalid},
    {"origin=sas,x", Origin::invalid},
    {"origin=%22sas%22", Origin::invalid},
    {"origin=\"sas\"", Origin::invalid},
    {"origin=sas/", Origin::invalid},
    {"origin=sas?", Origin::invalid},
    {"origin==sas", Origin::invalid},
    {"origin=sas=sas", Origin::invalid},
    {"origin=sas\r\nx", Origin::invalid},
};

std::vector<ArrivalCase> all_arrivals() {
  std::vector<ArrivalCase> all = kAbsent;
  all.insert(all.end(), kSas.begin(), kSas.end());
  all.insert(all.end(), kInvalid.begin(), kInvalid.end());
  return all;
}

TEST(OriginCheck, RawQueries) {
  for (const auto& c : all_arrivals()) {
    auto check = ra::check_origin_query(c.query);
    EXPECT_EQ(check.origin, c.expected) << "query '" << c.query << "': " << check.reason;
    EXPECT_EQ(check.through_sas(), c.expected == Origin::sas) << c.query;
    EXPECT_FALSE(check.reason.empty()) << c.query;
  }
}

TEST(OriginCheck, RequestTargets) {
  for (const auto& c : all_arrivals()) {
    if (c.query.empty() || c.query.front() == '#') continue;
    EXPECT_EQ(ra::check_origin_target("/rdv/P100000/P100000-L1?" + c.query).origin, c.expected) << c.query;
  }
  EXPECT_EQ(ra::check_origin_target("/rdv/P100000/P100000-L1").origin, Origin::absent);
  EXPECT_EQ(ra::check_origin_target("/rdv/origin=sas/P100000-L1").origin, Origin::absent);  // in the path
  EXPECT_EQ(ra::check_origin_target("/rdv/P/L;origin=sas").origin, Origin::absent);
  EXPECT_EQ(ra::check_origin_target("/rdv/P/L#?origin=sas").origin, Origin::absent);  // in the fragment
  EXPECT_EQ(ra::check_origin_target("/rdv/P/L?x=1#origin=sas").origin, Origin::absent);
  EXPECT_EQ(ra::check_origin_target("/rdv/P/L?origin=sas#x").origin, Origin::sas);
  EXPECT_EQ(ra::check_origin_target("/rdv/P/L?a=1?origin=sas").origin, Origin::absent);  // '?' is not a separator
  EXPECT_EQ(ra::check_origin_target("/rdv/P/L??origin=sas").origin, Origin::absent);
  EXPECT_EQ(ra::check_origin_target("/rdv/P/L?x=1&origin=sas").origin, Origin::sas);
}

TEST(OriginCheck, DecodedParameters) {
  using P = std::vector<std::pair<std::string, std::string>>;
  struct Case {
    P parameters;
    Origin expected;
  };
  const std::vector<Case> cases = {
      {{}, Origin::absent},
      {{{"x", "1"}}, Origin::absent},
      {{{"xorigin", "sas"}}, Origin::absent},
      {{{"origin", "sas"}}, Origin::sas},
      {{{"x", "1"}, {"origin", "sas"}, {"regulator", "810002673899"}}, Origin::sas},
      {{{"origin", "SAS"}}, Origin::invalid},
      {{{"Origin", "sas"}}, Origin::invalid},
      {{{"origin", "sas "}}, Origin::invalid},
      {{{" origin", "sas"}}, Origin::invalid},
      {{{"origin[]", "sas"}}, Origin::invalid},
      {{{"origin", ""}}, Origin::invalid},
      {{{"origin", "sas"}, {"origin", "sas"}}, Origin::invalid},
      {{{"origin", "sas"}, {"origin", "x"}}, Origin::invalid},
      {{{"origin", "sas"}, {"ORIGIN", "x"}}, Origin::invalid},
      {{{std::string("origin\0", 7), "sas"}}, Origin::invalid},
  };
  for (const auto& c : cases) {
    std::string text;
    for (const auto& [n, v] : c.parameters) text += "[" + n + "=" + v + "]";
    EXPECT_EQ(ra::check_origin_parameters(c.parameters).origin, c.expected) << text;
  }
}

// ---- The decision over every combination ----

enum class SessionKind {
  none,              // no session at all
  anonymous,         // a session without a logged-in account
  empty_account_id,  // a session naming an empty account id
  valid,             // created before now, expires after now
  expires_now,       // now == expires_at: over
  expired,           // expired ten minutes ago
  from_the_future,   // created after now (forged or clock trouble)
  incoherent,        // expires_at <= created_at
};

const std::vector<SessionKind> kSessionKinds = {
    SessionKind::none,        SessionKind::anonymous, SessionKind::empty_account_id, SessionKind::valid,
    SessionKind::expires_now, SessionKind::expired,   SessionKind::from_the_future,  SessionKind::incoherent,
};

const char* name(SessionKind k) {
  switch (k) {
    case SessionKind::none:
      return "no session";
    case SessionKind::anonymous:
      return "anonymous session";
    case SessionKind::empty_account_id:
      return "session with empty account id";
    case SessionKind::valid:
      return "valid session";
    case SessionKind::expires_now:
      return "session expiring now";
    case SessionKind::expired:
      return "expired session";
    case SessionKind::from_the_future:
      return "session created in the future";
    case SessionKind::incoherent:
      return "session expiring before its creation";
  }
  return "?";
}

ra::Session make_session(SessionKind kind, bool opened_through_sas) {
  ra::Session s;
  s.opened_through_sas = opened_through_sas;
  s.created_at = kNow - 10min;
  s.expires_at = kNow + 20min;
  switch (kind) {
    case SessionKind::none:
      return ra::Session{};
    case SessionKind::anonymous:
      break;
    case SessionKind::empty_account_id:
      s.account_id = "";
      break;
    case SessionKind::valid:
      s.account_id = "acc-1";
      break;
    case SessionKind::expires_now:
      s.account_id = "acc-1";
      s.created_at = kNow - 30min;
      s.expires_at = kNow;
      break;
    case SessionKind::expired:
      s.account_id = "acc-1";
      s.created_at = kNow - 40min;
      s.expires_at = kNow - 10min;
      break;
    case SessionKind::from_the_future:
      s.account_id = "acc-1";
      s.created_at = kNow + 1min;
      s.expires_at = kNow + 31min;
      break;
    case SessionKind::incoherent:
      s.account_id = "acc-1";
      s.created_at = kNow - 10min;
      s.expires_at = kNow - 10min;
      break;
  }
  return s;
}

struct AccountCase {
  std::string name;
  std::optional<ra::Account> account;
};

std::vector<AccountCase> all_accounts() {
  std::vector<AccountCase> out = {{"missing account", std::nullopt}};
  for (bool active : {true, false}) {
    for (bool regulator : {true, false}) {
      for (bool terms : {true, false}) {
        out.push_back({std::string(active ? "active" : "inactive") + (regulator ? " regulator" : " non-regulator") +
                           (terms ? " (terms accepted)" : " (terms not accepted)"),
                       ra::Account{active, regulator, terms}});
      }
    }
  }
  return out;
}

struct Expected {
  Access access;
  Reason reason;
};

// The rules, written from the issue (see the top of this file), not from the implementation.
Expected expected(Origin origin, SessionKind session, bool opened_through_sas,
                  const std::optional<ra::Account>& account) {
  // The arrival decides first: a forged origin is a clear error; no origin, no regulator rights,
  // whoever is logged in.
  if (origin == Origin::invalid) return {Access::refused, Reason::invalid_origin};
  if (origin == Origin::absent) return {Access::ordinary_user, Reason::no_origin};
  // Through SAS but without a live session opened through SAS: the login page, keeping origin=sas.
  switch (session) {
    case SessionKind::none:
    case SessionKind::anonymous:
    case SessionKind::empty_account_id:
      return {Access::login, Reason::not_logged_in};
    case SessionKind::from_the_future:
    case SessionKind::incoherent:
      return {Access::login, Reason::session_invalid};
    case SessionKind::expires_now:
    case SessionKind::expired:
      return {Access::login, Reason::session_expired};
    case SessionKind::valid:
      break;
  }
  if (!opened_through_sas) return {Access::login, Reason::session_not_from_sas};
  // A live SAS session: the account decides.
  if (!account) return {Access::refused, Reason::account_missing};
  if (!account->active) return {Access::refused, Reason::account_inactive};
  if (!account->regulator) return {Access::refused, Reason::not_a_regulator};
  if (!account->terms_accepted) return {Access::accept_terms, Reason::terms_not_accepted};
  return {Access::regulator, Reason::granted};
}

TEST(RegulatorAccess, EveryCombination) {
  std::size_t combinations = 0, granted = 0;
  for (const auto& arrival : all_arrivals()) {
    const auto origin = ra::check_origin_query(arrival.query);
    ASSERT_EQ(origin.origin, arrival.expected) << arrival.query;
    for (SessionKind session_kind : kSessionKinds) {
      for (bool opened_through_sas : {true, false}) {
        const ra::Session session = make_session(session_kind, opened_through_sas);
        for (const auto& account : all_accounts()) {
          ++combinations;
          const auto decision = ra::decide(origin, session, account.account, kNow);
          const auto want = expected(arrival.expected, session_kind, opened_through_sas, account.account);
          const std::string where = "query '" + arrival.query + "', " + name(session_kind) +
                                    (opened_through_sas ? " opened through SAS" : " opened without SAS") + ", " +
                                    account.name + " -> " + std::string(ra::to_string(decision.access)) + " (" +
                                    std::string(ra::to_string(decision.reason)) + "): " + decision.message;
          EXPECT_EQ(decision.access, want.access) << where;
          EXPECT_EQ(decision.reason, want.reason) << where;
          EXPECT_FALSE(decision.message.empty()) << where;
          EXPECT_EQ(decision.keep_origin_sas(), decision.access == Access::login) << where;

          // The security property itself, stated on its own: rights only with all of these.
          const bool all_conditions = arrival.expected == Origin::sas && session_kind == SessionKind::valid &&
                                      opened_through_sas && account.account && account.account->active &&
                                      account.account->regulator && account.account->terms_accepted;
          EXPECT_EQ(decision.regulator_rights(), all_conditions) << where;
          if (decision.regulator_rights()) ++granted;
          // Never a login page that would drop origin=sas, never a login for a forged origin.
          if (arrival.expected != Origin::sas) {
            EXPECT_NE(decision.access, Access::login) << where;
          }
        }
      }
    }
  }
  EXPECT_EQ(granted, kSas.size());  // one grant per SAS arrival: valid SAS session, fully able account
  EXPECT_GT(combinations, 5000U);
}

// The same decisions, as a few readable rows (the scenarios the ANS kit and the demo follow).
TEST(RegulatorAccess, Scenarios) {
  const auto sas = ra::check_origin_query("origin=sas");
  const auto none = ra::check_origin_query("");
  const auto forged = ra::check_origin_query("origin=sas&origin=x");
  const ra::Account able{true, true, true};
  ra::Session sas_session{"acc-1", kNow - 1min, kNow + 29min, true};
  ra::Session plain_session{"acc-1", kNow - 1min, kNow + 29min, false};

  // Booking URL without origin=sas, not logged in: no rights.
  EXPECT_EQ(ra::decide(none, ra::Session{}, std::nullopt, kNow).access, Access::ordinary_user);
  // With origin=sas, not logged in: login, keeping origin=sas.
  auto d = ra::decide(sas, ra::Session{}, std::nullopt, kNow);
  EXPECT_EQ(d.access, Access::login);
  EXPECT_TRUE(d.keep_origin_sas());
  // Logged in from the SAS link, first time: terms; then rights.
  EXPECT_EQ(ra::decide(sas, sas_session, ra::Account{true, true, false}, kNow).access, Access::accept_terms);
  EXPECT_EQ(ra::decide(sas, sas_session, able, kNow).access, Access::regulator);
  // The same account and session arriving without origin=sas: no regulator rights.
  EXPECT_EQ(ra::decide(none, sas_session, able, kNow).access, Access::ordinary_user);
  // Logged in any other way, then adding origin=sas by hand: log in again from the SAS link.
  EXPECT_EQ(ra::decide(sas, plain_session, able, kNow).reason, Reason::session_not_from_sas);
  // Deactivated through INT_R02 while logged in: refused at once.
  EXPECT_EQ(ra::decide(sas, sas_session, ra::Account{false, true, true}, kNow).reason, Reason::account_inactive);
  // Rights end with the session.
  EXPECT_EQ(ra::decide(sas, sas_session, able, kNow + 29min).reason, Reason::session_expired);
  EXPECT_EQ(ra::decide(sas, sas_session, able, kNow + 29min - 1s).access, Access::regulator);
  // A forged origin is refused whatever the session.
  EXPECT_EQ(ra::decide(forged, sas_session, able, kNow).access, Access::refused);
}

TEST(RegulatorAccess, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (auto r : {Reason::granted, Reason::terms_not_accepted, Reason::no_origin, Reason::invalid_origin,
                 Reason::not_logged_in, Reason::session_expired, Reason::session_invalid, Reason::session_not_from_sas,
                 Reason::account_missing, Reason::account_inactive, Reason::not_a_regulator}) {
    EXPECT_TRUE(names.insert(ra::to_string(r)).second) << ra::to_string(r);
  }
  EXPECT_EQ(names.size(), 11U);
  EXPECT_EQ(ra::to_string(Access::regulator), "regulator");
  EXPECT_EQ(ra::to_string(Origin::sas), "sas");
  EXPECT_EQ(ra::kOriginParameter, "origin=sas");
}

}  // namespace
