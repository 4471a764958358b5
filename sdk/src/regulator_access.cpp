#include "sas/sdk/regulator_access.hpp"

#include <vector>

namespace sas::sdk::regulator_access {

namespace {

constexpr std::string_view kOriginName = "origin";
constexpr std::string_view kSasValue = "sas";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as lenient parsers do it: '+' is a space, a malformed escape stays literal.
std::string decode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '+') {
      out += ' ';
    } else if (raw[i] == '%' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 && hex_value(raw[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2]));
      i += 2;
    } else {
      out += raw[i];
    }
  }
  return out;
}

// Whether some common parser could read this (decoded) name as "origin": case-folded, trimmed,
// cut at NUL or '=', PHP/Rack array syntax "origin[]" / "origin[x]" included.
bool origin_like_name(std::string name) {
  // C-string parsers stop at NUL; naive ones split after decoding.
  if (auto end = name.find_first_of(std::string_view("=\0", 2)); end != std::string::npos) name.resize(end);
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (auto bracket = name.find('['); bracket != std::string::npos && !name.empty() && name.back() == ']') {
    name.resize(bracket);
  }
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  };
  std::size_t begin = 0, end = name.size();
  while (begin < end && is_space(name[begin])) ++begin;
  while (end > begin && is_space(name[end - 1])) --end;
  return std::string_view(name).substr(begin, end - begin) == kOriginName;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t begin = 0;
  for (;;) {
    auto end = text.find(separator, begin);
    parts.push_back(text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  return parts;
}

OriginCheck result(std::size_t origin_like, bool exact, std::string_view first_seen) {
  if (origin_like == 0) return {Origin::absent, "no origin parameter: not an arrival through SAS"};
  if (origin_like > 1) {
    return {Origin::invalid, "the origin parameter appears " + std::to_string(origin_like) +
                                 " times; an arrival through SAS carries exactly one origin=sas"};
  }
  if (!exact) {
    return {Origin::invalid, "the origin parameter '" + std::string(first_seen.substr(0, 80)) +
                                 "' is not exactly origin=sas (lower case, not encoded)"};
  }
  return {Origin::sas, "arrived through SAS (origin=sas)"};
}

}  // namespace

OriginCheck check_origin_query(std::string_view raw_query) {
  if (auto hash = raw_query.find('#'); hash != std::string_view::npos) raw_query = raw_query.substr(0, hash);
  std::size_t origin_like = 0;
  bool exact = false;
  std::string_view first_seen;
  for (std::string_view item : split(raw_query, '&')) {
    for (std::string_view token : split(item, ';')) {
      if (token.empty()) continue;
      const auto eq = token.find('=');
      if (!origin_like_name(decode(token.substr(0, eq)))) continue;
      if (++origin_like == 1) first_seen = token;
      // Exact only as a whole '&' item: "x=1;origin=sas" means different things to different parsers.
      if (item == "origin=sas") exact = true;
    }
  }
  return result(origin_like, exact, first_seen);
}

OriginCheck check_origin_target(std::string_view raw_target) {
  if (auto hash = raw_target.find('#'); hash != std::string_view::npos) raw_target = raw_target.substr(0, hash);
  auto question = raw_target.find('?');
  if (question == std::string_view::npos) return result(0, false, {});
  return check_origin_query(raw_target.substr(question + 1));
}

OriginCheck check_origin_parameters(std::span<const std::pair<std::string, std::string>> parameters) {
  std::size_t origin_like = 0;
  bool exact = false;
  std::string first_seen;
  for (const auto& [name, value] : parameters) {
    if (!origin_like_name(name)) continue;
    if (++origin_like == 1) first_seen = name + "=" + value;
    if (name == kOriginName && value == kSasValue) exact = true;
  }
  return result(origin_like, exact, first_seen);
}

Decision decide(const OriginCheck& arrival, const Session& session, const std::optional<Account>& account,
                Clock::time_point now) {
  // The arrival first: without origin=sas no session or account can give regulator rights.
  if (arrival.origin == Origin::invalid) {
    return {Access::refused, Reason::invalid_origin, "refused: " + arrival.reason};
  }
  if (arrival.origin != Origin::sas) {
    return {Access::ordinary_user, Reason::no_origin,
            "not opened from the SAS platform (no origin=sas): no regulator rights"};
  }
  if (!session.account_id || session.account_id->empty()) {
    return {Access::login, Reason::not_logged_in, "not logged in: log in to act as a SAS regulator"};
  }
  if (session.expires_at <= session.created_at || now < session.created_at) {
    return {Access::login, Reason::session_invalid, "the session's times are not coherent: log in again"};
  }
  if (now >= session.expires_at) {
    return {Access::login, Reason::session_expired, "the session has expired: log in again"};
  }
  // Rights live only in a session that a login through SAS opened.
  if (!session.opened_through_sas) {
    return {Access::login, Reason::session_not_from_sas,
            "this session was not opened from the SAS platform: log in again from the SAS link"};
  }
  if (!account) {
    return {Access::refused, Reason::account_missing, "refused: the session's account no longer exists"};
  }
  if (!account->active) {
    return {Access::refused, Reason::account_inactive,
            "refused: this account's SAS regulator habilitation has been withdrawn"};
  }
  if (!account->regulator) {
    return {Access::refused, Reason::not_a_regulator, "refused: this account is not a SAS regulator account"};
  }
  if (!account->terms_accepted) {
    return {Access::accept_terms, Reason::terms_not_accepted, "the terms of use must be accepted first"};
  }
  return {Access::regulator, Reason::granted, "acting as a SAS regulator"};
}

std::string_view to_string(Origin origin) {
  switch (origin) {
    case Origin::absent:
      return "absent";
    case Origin::sas:
      return "sas";
    case Origin::invalid:
      return "invalid";
  }
  return "?";
}

std::string_view to_string(Access access) {
  switch (access) {
    case Access::regulator:
      return "regulator";
    case Access::accept_terms:
      return "accept_terms";
    case Access::login:
      return "login";
    case Access::refused:
      return "refused";
    case Access::ordinary_user:
      return "ordinary_user";
  }
  return "?";
}

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::granted:
      return "granted";
    case Reason::terms_not_accepted:
      return "terms_not_accepted";
    case Reason::no_origin:
      return "no_origin";
    case Reason::invalid_origin:
      return "invalid_origin";
    case Reason::not_logged_in:
      return "not_logged_in";
    case Reason::session_expired:
      return "session_expired";
    case Reason::session_invalid:
      return "session_invalid";
    case Reason::session_not_from_sas:
      return "session_not_from_sas";
    case Reason::account_missing:
      return "account_missing";
    case Reason::account_inactive:
      return "account_inactive";
    case Reason::not_a_regulator:
      return "not_a_regulator";
  }
  return "?";
}

}  // namespace sas::sdk::regulator_access
