#include "sas/host/regulator_accounts/validation.hpp"

#include <algorithm>
#include <sas/host/fhir/constants.hpp>
#include <sas/host/fhir/json.hpp>
#include <sas/sdk/ids.hpp>

#include <boost/json.hpp>
#include <sas/host/text/text.hpp>

namespace sas::host::regulator_accounts {
namespace {

namespace json = boost::json;
namespace v1 = sas::plugin::v1;
using fhir::Issue;
using fhir::Severity;

constexpr std::string_view kEmailSystem = "email";

using sas::host::text::trim;

bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_utf8_byte(char c) { return static_cast<unsigned char>(c) >= 0x80; }

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

// The issues of one body: `malformed` ones make it a 400, `rules` ones a 422.
struct Issues {
  std::vector<Issue> malformed;
  std::vector<Issue> rules;

  void bad_json(std::string expression, std::string diagnostics) {
    malformed.push_back(Issue{
        Severity::error, std::string(fhir::issue_type::kInvalid), std::move(diagnostics), {std::move(expression)}});
  }
  void rule(std::string_view code, std::string expression, std::string diagnostics) {
    rules.push_back(Issue{Severity::error, std::string(code), std::move(diagnostics), {std::move(expression)}});
  }
};

// FHIR JSON has no empty strings, arrays or objects and no null (R4 json.html): each one is a
// malformed element, named by its path.
void find_empty_values(const json::value& v, const std::string& path, Issues& issues) {
  switch (v.kind()) {
    case json::kind::null:
      issues.bad_json(path, path + " is null: FHIR JSON leaves an absent element out instead");
      break;
    case json::kind::string:
      if (v.get_string().empty()) issues.bad_json(path, path + " is an empty string: FHIR JSON forbids empty values");
      break;
    case json::kind::array: {
      const auto& array = v.get_array();
      if (array.empty()) issues.bad_json(path, path + " is an empty array: FHIR JSON forbids empty values");
      for (std::size_t i = 0; i < array.size(); ++i) {
        find_empty_values(array[i], path + "[" + std::to_string(i) + "]", issues);
      }
      break;
    }
    case json::kind::object: {
      const auto& object = v.get_object();
      if (object.empty()) issues.bad_json(path, path + " is an empty object: FHIR JSON forbids empty values");
      for (const auto& member : object)
        find_empty_values(member.value(), path + "." + std::string(member.key()), issues);
      break;
    }
    default:
      break;
  }
}

std::string_view kind_name(json::kind k) {
  switch (k) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

// Typed access to one member; a member of the wrong JSON type is a malformed element. Members
// already reported as null or empty are skipped here (nullptr) without a second issue.
const json::value* member(const json::object& object, std::string_view key, json::kind wanted, const std::string& path,
                          Issues& issues) {
  const json::value* v = object.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  const bool ok = wanted == json::kind::int64 ? v->is_number() : v->kind() == wanted;
  if (!ok) {
    issues.bad_json(path,
                    path + " must be " + std::string(kind_name(wanted)) + ", not " + std::string(kind_name(v->kind())));
    return nullptr;
  }
  if (v->is_string() && v->get_string().empty()) return nullptr;
  if (v->is_array() && v->get_array().empty()) return nullptr;
  return v;
}

const json::string* string_member(const json::object& object, std::string_view key, const std::string& path,
                                  Issues& issues) {
  const json::value* v = member(object, key, json::kind::string, path, issues);
  return v == nullptr ? nullptr : &v->get_string();
}

// Items of an array member that must each be objects (or strings, for `given`).
std::vector<std::pair<std::string, const json::value*>> items(const json::object& object, std::string_view key,
                                                              json::kind item_kind, const std::string& path,
                                                              Issues& issues) {
  std::vector<std::pair<std::string, const json::value*>> out;
  const json::value* v = member(object, key, json::kind::array, path, issues);
  if (v == nullptr) return out;
  const auto& array = v->get_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    std::string item_path = path + "[" + std::to_string(i) + "]";
    if (array[i].is_null()) continue;  // reported by find_empty_values
    if (array[i].kind() != item_kind) {
      issues.bad_json(item_path, item_path + " must be " + std::string(kind_name(item_kind)) + ", not " +
                                     std::string(kind_name(array[i].kind())));
      continue;
    }
    out.emplace_back(std::move(item_path), &array[i]);
  }
  return out;
}

enum class IdKind { national, sas };

std::string_view type_code(IdKind kind) { return kind == IdKind::national ? fhir::code::kIdnps : fhir::code::kIntrn; }
std::string_view system_of(IdKind kind) {
  return kind == IdKind::national ? fhir::kPractitionerIdSystem : fhir::kSasPlatformSystem;
}

// Identifier.type, when present, must carry the fr-v2-0203 code of its slice (the profile's
// pattern): IDNPS with the national system, INTRN with the SAS one.
void check_identifier_type(const json::object& identifier, IdKind kind, const std::string& path, Issues& issues) {
  const json::value* type = member(identifier, "type", json::kind::object, path + ".type", issues);
  if (type == nullptr) return;
  std::vector<std::string> codes;
  bool matches = false;
  for (const auto& [coding_path, coding] :
       items(type->get_object(), "coding", json::kind::object, path + ".type.coding", issues)) {
    const auto* system = string_member(coding->get_object(), "system", coding_path + ".system", issues);
    const auto* code = string_member(coding->get_object(), "code", coding_path + ".code", issues);
    if (system == nullptr || code == nullptr || *system != fhir::kIdentifierTypeSystem) continue;
    if (*code == type_code(kind)) matches = true;
    codes.emplace_back(*code);
  }
  if (matches) return;
  const IdKind other = kind == IdKind::national ? IdKind::sas : IdKind::national;
  if (std::find(codes.begin(), codes.end(), type_code(other)) != codes.end()) {
    issues.rule(fhir::issue_type::kValue, path + ".type",
                path + ": type " + std::string(type_code(other)) + " does not match system " +
                    std::string(system_of(kind)) + ": " + std::string(type_code(other)) + " goes with " +
                    std::string(system_of(other)) + " and " + std::string(type_code(kind)) + " with " +
                    std::string(system_of(kind)));
    return;
  }
  issues.rule(fhir::issue_type::kValue, path + ".type",
              path + ".type must be the code " + std::string(type_code(kind)) + " of " +
                  std::string(fhir::kIdentifierTypeSystem) + " for system " + std::string(system_of(kind)));
}

void check_identifiers(const json::object& root, v1::RegulatorAccount& account, Issues& issues) {
  const auto identifiers = items(root, "identifier", json::kind::object, "Practitioner.identifier", issues);
  if (identifiers.empty() && !root.contains("identifier")) {
    issues.rule(fhir::issue_type::kRequired, "Practitioner.identifier",
                "Practitioner.identifier is required: the national id (IDNPS, system " +
                    std::string(fhir::kPractitionerIdSystem) + ") or the SAS technical id (INTRN, system " +
                    std::string(fhir::kSasPlatformSystem) + ")");
    return;
  }
  int national = 0;
  int sas = 0;
  for (const auto& [path, item] : identifiers) {
    const auto& identifier = item->get_object();
    const auto* system = string_member(identifier, "system", path + ".system", issues);
    const auto* value = string_member(identifier, "value", path + ".value", issues);
    if (system == nullptr) {
      if (!identifier.contains("system")) {
        issues.rule(fhir::issue_type::kRequired, path + ".system", path + ".system is required");
      }
      continue;
    }
    IdKind kind;
    if (*system == fhir::kPractitionerIdSystem) {
      kind = IdKind::national;
    } else if (*system == fhir::kSasPlatformSystem) {
      kind = IdKind::sas;
    } else {
      issues.rule(fhir::issue_type::kValue, path + ".system",
                  path + ".system " + quoted(*system) + " is not an account identifier system: expected " +
                      std::string(fhir::kPractitionerIdSystem) + " (IDNPS) or " +
                      std::string(fhir::kSasPlatformSystem) + " (INTRN)");
      continue;
    }
    check_identifier_type(identifier, kind, path, issues);
    if (++(kind == IdKind::national ? national : sas) == 2) {
      issues.rule("structure", path,
                  "Practitioner.identifier has more than one " + std::string(type_code(kind)) + " identifier (system " +
                      std::string(system_of(kind)) + "); the profile allows one");
    }
    if (value == nullptr) {
      if (!identifier.contains("value"))
        issues.rule(fhir::issue_type::kRequired, path + ".value", path + ".value is required");
      continue;
    }
    std::string error;
    if (kind == IdKind::national) {
      if (auto normalized = normalize_national_id(*value, &error)) {
        if (national == 1) account.set_national_id(*normalized);
      } else {
        issues.rule(fhir::issue_type::kValue, path + ".value", path + ".value: " + error);
      }
    } else {
      if (auto normalized = normalize_sas_id(*value, &error)) {
        if (sas == 1) account.set_sas_id(*normalized);
      } else {
        issues.rule(fhir::issue_type::kValue, path + ".value", path + ".value: " + error);
      }
    }
  }
}

void check_name(const json::object& root, v1::RegulatorAccount& account, Issues& issues) {
  const auto names = items(root, "name", json::kind::object, "Practitioner.name", issues);
  if (names.empty()) {
    if (!root.contains("name")) {
      issues.rule(fhir::issue_type::kRequired, "Practitioner.name",
                  "Practitioner.name is required, with family and one given name");
    }
    return;
  }
  // The first name is the regulator's: the profile constrains family and given, not how many
  // names there are.
  const auto& [path, item] = names.front();
  const auto& name = item->get_object();
  if (const auto* family = string_member(name, "family", path + ".family", issues)) {
    const auto trimmed = trim(*family);
    if (trimmed.empty()) {
      issues.rule(fhir::issue_type::kValue, path + ".family", path + ".family is blank: the family name is required");
    } else {
      account.set_family_name(std::string(trimmed));
    }
  } else if (!name.contains("family")) {
    issues.rule(fhir::issue_type::kRequired, path + ".family", path + ".family is required (the family name)");
  }
  const auto given = items(name, "given", json::kind::string, path + ".given", issues);
  if (given.empty()) {
    if (!name.contains("given")) {
      issues.rule(fhir::issue_type::kRequired, path + ".given", path + ".given is required (one given name)");
    }
    return;
  }
  if (given.size() > 1) {
    issues.rule("structure", path + ".given",
                path + ".given has " + std::to_string(given.size()) + " items; the profile allows one given name");
    return;
  }
  const auto& text = given.front().second->get_string();
  const auto trimmed = trim(text);
  if (trimmed.empty()) {
    if (!text.empty()) {
      issues.rule(fhir::issue_type::kValue, given.front().first,
                  given.front().first + " is blank: the given name is required");
    }
    return;
  }
  account.set_given_name(std::string(trimmed));
}

void check_telecom(const json::object& root, v1::RegulatorAccount& account, Issues& issues) {
  const auto telecoms = items(root, "telecom", json::kind::object, "Practitioner.telecom", issues);
  bool have_email = false;
  bool reported = false;
  for (const auto& [path, item] : telecoms) {
    const auto& telecom = item->get_object();
    const auto* system = string_member(telecom, "system", path + ".system", issues);
    const auto* value = string_member(telecom, "value", path + ".value", issues);
    if (system == nullptr) {
      if (!telecom.contains("system")) {
        issues.rule(fhir::issue_type::kRequired, path + ".system", path + ".system is required and must be email");
      }
      reported = true;
      continue;
    }
    if (*system != kEmailSystem) {
      issues.rule(fhir::issue_type::kValue, path + ".system",
                  path + ".system is " + quoted(*system) + ": the profile allows e-mail addresses only (email)");
      reported = true;
      continue;
    }
    if (value == nullptr) {
      if (!telecom.contains("value")) {
        issues.rule(fhir::issue_type::kRequired, path + ".value", path + ".value is required (the e-mail address)");
      }
      reported = true;
      continue;
    }
    const auto email = trim(*value);
    if (!is_valid_email(email)) {
      issues.rule(fhir::issue_type::kValue, path + ".value",
                  path + ".value " + quoted(*value) + " is not a well-formed e-mail address");
      reported = true;
      continue;
    }
    if (have_email) continue;  // the first valid address is the account's
    have_email = true;
    const auto at = email.rfind('@');
    account.set_email(std::string(email.substr(0, at + 1)) + lower_ascii(email.substr(at + 1)));
  }
  if (!have_email && !reported) {
    issues.rule(fhir::issue_type::kRequired, "Practitioner.telecom",
                "Practitioner.telecom must hold the regulator's e-mail address (system email): it is required");
  }
}

}  // namespace

std::optional<std::string> normalize_national_id(std::string_view raw, std::string* error) {
  const auto value = trim(raw);
  if (value.find('/') != std::string_view::npos) {
    // Staff without RPPS/ADELI: a type digit, the structure's id, '/', the structure's own id.
    const auto slash = value.find('/');
    const auto structure = value.substr(1, slash - 1);
    const auto internal = value.substr(slash + 1);
    const bool ok = value.size() >= 4 && value[0] >= '1' && value[0] <= '9' && value[0] != '8' && !structure.empty() &&
                    std::all_of(structure.begin(), structure.end(), is_alnum) && !internal.empty() &&
                    std::all_of(internal.begin(), internal.end(), [](char c) { return c > ' ' && c != 0x7f; });
    if (ok) return std::string(value);
    set_error(error, quoted(raw) +
                         " is not a national practitioner id: the structure form is a digit, the structure id, '/' "
                         "and an internal id (e.g. 3456780581/11242343)");
    return std::nullopt;
  }
  std::string reason;
  if (auto id = sas::sdk::ids::normalize_practitioner_id(value, &reason)) return id->prefixed;
  set_error(error, quoted(raw) + " is not a national practitioner id (8+RPPS, 0+ADELI): " + reason);
  return std::nullopt;
}

std::optional<std::string> normalize_sas_id(std::string_view raw, std::string* error) {
  const auto value = trim(raw);
  bool ok = value.size() == 36;
  for (std::size_t i = 0; ok && i < value.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    ok = dash ? value[i] == '-' : is_hex(value[i]);
  }
  if (ok) return lower_ascii(value);
  set_error(error, quoted(raw) + " is not a SAS technical id: expected a UUID (8-4-4-4-12 hexadecimal digits)");
  return std::nullopt;
}

bool is_valid_email(std::string_view email) {
  if (email.size() > 254) return false;
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos) return false;
  const auto local = email.substr(0, at);
  const auto domain = email.substr(at + 1);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  constexpr std::string_view kAtext = "!#$%&'*+-/=?^_`{|}~.";
  for (char c : local) {
    if (!is_alnum(c) && !is_utf8_byte(c) && kAtext.find(c) == std::string_view::npos) return false;
  }
  std::size_t labels = 0;
  std::size_t start = 0;
  while (start <= domain.size()) {
    auto end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    const auto label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!is_alnum(c) && !is_utf8_byte(c) && c != '-') return false;
    }
    ++labels;
    start = end + 1;
  }
  return labels >= 2;
}

std::variant<ParsedPractitioner, fhir::HttpError> parse_practitioner(std::string_view body) {
  if (trim(body).empty()) {
    return fhir::http_error(400, fhir::issue_type::kInvalid, "the body is empty: expected a Practitioner resource",
                            "Practitioner");
  }
  boost::system::error_code ec;
  json::value document = json::parse(body, ec);
  if (ec) {
    return fhir::http_error(400, fhir::issue_type::kInvalid,
                            "the body is not valid JSON (" + ec.message() + "): expected a Practitioner resource",
                            "Practitioner");
  }
  if (!document.is_object()) {
    return fhir::http_error(400, fhir::issue_type::kInvalid,
                            "the body is " + std::string(kind_name(document.kind())) +
                                ", not a JSON object: expected a Practitioner resource",
                            "Practitioner");
  }
  const auto& root = document.get_object();
  const json::value* type = root.if_contains("resourceType");
  if (type == nullptr || !type->is_string() || type->get_string() != "Practitioner") {
    const std::string got = type == nullptr     ? std::string("no resourceType")
                            : type->is_string() ? "resourceType " + quoted(type->get_string())
                                                : "a resourceType that is not a string";
    return fhir::http_error(400, fhir::issue_type::kInvalid, "expected a Practitioner resource, got " + got,
                            "Practitioner.resourceType");
  }

  Issues issues;
  ParsedPractitioner parsed;
  v1::RegulatorAccount& account = parsed.account;
  find_empty_values(document, "Practitioner", issues);
  if (const auto* id = string_member(root, "id", "Practitioner.id", issues)) parsed.id = std::string(*id);

  // meta.source: the SAS platform, always (profile pattern).
  const json::value* meta = member(root, "meta", json::kind::object, "Practitioner.meta", issues);
  const json::string* source =
      meta == nullptr ? nullptr : string_member(meta->get_object(), "source", "Practitioner.meta.source", issues);
  if (source == nullptr) {
    if (meta == nullptr || !meta->get_object().contains("source")) {
      issues.rule(fhir::issue_type::kRequired, "Practitioner.meta.source",
                  "Practitioner.meta.source is required and must be " + std::string(fhir::kSasPlatformSystem) +
                      " (the SAS platform)");
    }
  } else if (*source != fhir::kSasPlatformSystem) {
    issues.rule(fhir::issue_type::kValue, "Practitioner.meta.source",
                "Practitioner.meta.source is " + quoted(*source) + ", it must be " +
                    std::string(fhir::kSasPlatformSystem) + " (the SAS platform)");
  }

  check_identifiers(root, account, issues);

  if (const json::value* active = member(root, "active", json::kind::bool_, "Practitioner.active", issues)) {
    account.set_active(active->get_bool());
  } else if (!root.contains("active")) {
    issues.rule(fhir::issue_type::kRequired, "Practitioner.active",
                "Practitioner.active is required: true enables the account, false withdraws the habilitation");
  }

  check_name(root, account, issues);
  check_telecom(root, account, issues);

  if (!issues.malformed.empty()) return fhir::http_error(400, issues.malformed);
  if (!issues.rules.empty()) return fhir::http_error(422, issues.rules);
  return parsed;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// Percent-decoding; '+' stays '+' (a conditional URL is not a form).
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return std::nullopt;
    out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
    i += 2;
  }
  return out;
}

fhir::HttpError query_error(std::string diagnostics, std::string_view code = fhir::issue_type::kInvalid) {
  return fhir::http_error(400, code, diagnostics, "identifier");
}

}  // namespace

std::variant<AccountAddress, fhir::HttpError> parse_account_query(std::string_view query) {
  std::optional<std::string> identifier;
  std::size_t start = 0;
  while (start <= query.size()) {
    auto end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const auto parameter = query.substr(start, end - start);
    start = end + 1;
    if (parameter.empty()) continue;
    const auto eq = parameter.find('=');
    const auto key = percent_decode(parameter.substr(0, eq));
    const auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : parameter.substr(eq + 1));
    if (!key || !value) return query_error("malformed percent-encoding in " + quoted(parameter));
    if (*key == "identifier") {
      if (identifier) return query_error("identifier is repeated: a conditional update addresses one account");
      identifier = *value;
    } else if (*key == "_format") {
      const auto format = fhir::classify_format(*value);
      if (format != fhir::Format::json && format != fhir::Format::any) {
        return fhir::http_error(406, fhir::issue_type::kNotSupported,
                                "_format=" + *value + ": this server answers application/fhir+json only", "_format");
      }
    } else if (*key != "_pretty") {
      // Matching on anything else would address more accounts than the platform meant.
      return fhir::http_error(400, fhir::issue_type::kNotSupported,
                              "unknown parameter " + quoted(*key) +
                                  ": a conditional update of a regulator account takes identifier=SYSTEM|VALUE only",
                              *key);
    }
  }
  if (!identifier) {
    return query_error("a conditional update needs ?identifier=SYSTEM|VALUE (system " +
                           std::string(fhir::kPractitionerIdSystem) + " or " + std::string(fhir::kSasPlatformSystem) +
                           ")",
                       fhir::issue_type::kRequired);
  }
  const auto bar = identifier->find('|');
  if (bar == std::string::npos || bar == 0) {
    return query_error("identifier=" + *identifier + " needs a system: SYSTEM|VALUE with system " +
                       std::string(fhir::kPractitionerIdSystem) + " (IDNPS) or " +
                       std::string(fhir::kSasPlatformSystem) + " (INTRN)");
  }
  const std::string system = identifier->substr(0, bar);
  const std::string raw = identifier->substr(bar + 1);
  std::string error;
  AccountAddress address;
  if (system == fhir::kPractitionerIdSystem) {
    address.kind = AccountAddress::Kind::national_id;
    if (auto id = normalize_national_id(raw, &error)) {
      address.value = *id;
      return address;
    }
  } else if (system == fhir::kSasPlatformSystem) {
    address.kind = AccountAddress::Kind::sas_id;
    if (auto id = normalize_sas_id(raw, &error)) {
      address.value = *id;
      return address;
    }
  } else {
    error = "system " + quoted(system) + " is not an account identifier system: expected " +
            std::string(fhir::kPractitionerIdSystem) + " (IDNPS) or " + std::string(fhir::kSasPlatformSystem) +
            " (INTRN)";
  }
  return query_error("identifier: " + error, fhir::issue_type::kValue);
}

}  // namespace sas::host::regulator_accounts
