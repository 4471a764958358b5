// The origin=sas booking path (INT_R02): is this user, arriving with these parameters and this
// session, acting as a SAS regulator now? Pure functions, no I/O: the vendor's web app reads the
// request, its session and the account, and asks. The model is in docs/booking-origin-sas.md.
//
// Through SAS means: the request's query holds exactly one parameter that any common parser
// would call `origin`, and it is literally `origin=sas` (lower case, not percent-encoded).
// Regulator rights need, on every request: an arrival through SAS, a live session that was
// itself opened (logged in) from an arrival through SAS, and an existing, active regulator
// account that has accepted the vendor's terms. Anything else never gets regulator rights.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace sas::sdk::regulator_access {

// What the platform appends to a slot's booking URL (`comment`), and what a vendor keeps in the
// login URL and the return URL so that a regulator who logs in from the SAS link gets rights.
inline constexpr std::string_view kOriginParameter = "origin=sas";

enum class Origin {
  absent,   // no origin parameter at all: an ordinary arrival
  sas,      // exactly one `origin=sas`, byte for byte
  invalid,  // an origin-like parameter that is not exactly one `origin=sas` (forged or ambiguous)
};

struct OriginCheck {
  Origin origin = Origin::absent;
  std::string reason;  // why, in one English sentence (for logs and error pages)

  bool through_sas() const { return origin == Origin::sas; }
};

// From the raw query string as received, not percent-decoded (the part after '?'; a '#fragment'
// is cut off and ignored). Both '&' and ';' separate parameters when looking for origin-like
// ones. A parameter is origin-like when its name, percent-decoded ('+' as space), cut at a
// decoded '=', trimmed of spaces, ASCII-lowercased and stripped of a trailing "[...]", is
// "origin". The arrival is through SAS only when there is exactly one origin-like parameter and
// it is the '&'-separated item "origin=sas" exactly. Case-sensitive on purpose: the platform
// sends exactly that, and "Origin=SAS" is a hand-made URL. Prefer this over
// check_origin_parameters: it sees encoding tricks.
OriginCheck check_origin_query(std::string_view raw_query);

// From a raw request target ("/path?query#fragment"): check_origin_query of its query part.
// A target without '?' is an ordinary arrival.
OriginCheck check_origin_target(std::string_view raw_target);

// From parameters a web framework already decoded (name, value), in any order. The same rules,
// except that encoding tricks are invisible here: prefer check_origin_query when the raw query
// is available.
OriginCheck check_origin_parameters(std::span<const std::pair<std::string, std::string>> parameters);

using Clock = std::chrono::system_clock;

// The vendor's server-side session of the requesting browser (never anything the client sent).
struct Session {
  // The authenticated account; nullopt when there is no session or it is not logged in.
  std::optional<std::string> account_id;
  Clock::time_point created_at{};  // when the login created it
  Clock::time_point expires_at{};  // live while created_at <= now < expires_at
  // True when this session was opened by a login whose request was itself through SAS
  // (check_origin_target(login request).through_sas()). Set once at login, never later.
  bool opened_through_sas = false;
};

// The account the session names, as the vendor's database has it now (read on every request, so
// a deactivation takes effect at once). nullopt: no such account any more.
struct Account {
  bool active = false;          // INT_R02 `active`: false = habilitation withdrawn
  bool regulator = false;       // a SAS regulator account (created through INT_R02)
  bool terms_accepted = false;  // the vendor's terms, accepted at first login
};

enum class Access {
  regulator,      // act as a SAS regulator for this request (booking tagged SAS-origin)
  accept_terms,   // a SAS regulator who must accept the vendor's terms first; no regulator action yet
  login,          // send to the login page, keeping origin=sas through it (see keep_origin_sas)
  refused,        // a clear error page; never the agenda with regulator rights
  ordinary_user,  // not through SAS: the ordinary page with the user's ordinary rights only
};

enum class Reason {
  granted,
  terms_not_accepted,
  no_origin,             // no origin parameter
  invalid_origin,        // origin parameter present but not exactly one origin=sas
  not_logged_in,         // no session, or a session without an account
  session_expired,       // now >= expires_at
  session_invalid,       // now < created_at, or expires_at <= created_at
  session_not_from_sas,  // the session was not opened from an origin=sas arrival
  account_missing,       // the session's account no longer exists
  account_inactive,      // habilitation withdrawn (active = false)
  not_a_regulator,       // an account without the SAS regulator habilitation
};

struct Decision {
  Access access = Access::refused;
  Reason reason = Reason::not_logged_in;
  std::string message;  // for the user and the logs, in English

  bool regulator_rights() const { return access == Access::regulator; }
  // For Access::login: the login page and its return URL must carry origin=sas.
  bool keep_origin_sas() const { return access == Access::login; }
};

// The decision for one request. The checks, in order:
//  1. origin invalid -> refused; origin absent -> ordinary_user (whatever the session);
//  2. through SAS: no account in the session -> login; session expired or incoherent -> login;
//     session not opened through SAS -> login (a new login from the SAS link opens one);
//  3. account missing, inactive or not a regulator -> refused;
//  4. terms not accepted -> accept_terms; otherwise regulator.
// `account` is ignored when the session has no account.
Decision decide(const OriginCheck& arrival, const Session& session, const std::optional<Account>& account,
                Clock::time_point now);

std::string_view to_string(Origin origin);
std::string_view to_string(Access access);
std::string_view to_string(Reason reason);

}  // namespace sas::sdk::regulator_access
