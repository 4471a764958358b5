#include <sas/host/billing/json.hpp>
#include <sas/sdk/ids.hpp>

namespace sas::host::billing {
namespace {

namespace json = boost::json;

[[noreturn]] void fail(std::string_view field, const std::string& what) {
  throw BillingError("consultation: field \"" + std::string(field) + "\": " + what);
}

const json::value* find(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::string required_string(const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (v == nullptr) fail(key, "missing");
  if (!v->is_string()) fail(key, "expected a string");
  return std::string(v->get_string());
}

std::string optional_string(const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_string()) fail(key, "expected a string");
  return std::string(v->get_string());
}

bool required_bool(const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (v == nullptr) fail(key, "missing (true or false)");
  if (!v->is_bool()) fail(key, "expected true or false");
  return v->get_bool();
}

Instant required_instant(const json::object& o, std::string_view key) {
  const std::string text = required_string(o, key);
  std::string error;
  auto t = sas::sdk::datetime::parse_fhir(text, &error);
  if (!t) fail(key, "\"" + text + "\": " + error + " (expected e.g. 2026-11-23T10:30:00+01:00)");
  return *t;
}

}  // namespace

Consultation consultation_from_json(const json::value& value) {
  if (!value.is_object()) throw BillingError("consultation: expected a JSON object");
  const json::object& o = value.get_object();
  Consultation c;
  c.id = optional_string(o, "consultation_id");
  const std::string practitioner = required_string(o, "practitioner");
  std::string error;
  auto id = sas::sdk::ids::normalize_practitioner_id(practitioner, &error);
  if (!id) fail("practitioner", "\"" + practitioner + "\": " + error);
  c.practitioner_id = id->prefixed;
  c.consulted_at = required_instant(o, "consulted_at");
  c.regulated_at = required_instant(o, "regulated_at");
  c.medecin_traitant = required_bool(o, "medecin_traitant");
  c.specialty = optional_string(o, "specialty");
  c.opposable_tariff = required_bool(o, "opposable_tariff");
  c.tariff_sector = optional_string(o, "tariff_sector");
  if (const json::value* codes = find(o, "other_codes")) {
    if (!codes->is_array()) fail("other_codes", "expected an array of NGAP codes (strings)");
    for (std::size_t i = 0; i < codes->get_array().size(); ++i) {
      const json::value& code = codes->get_array()[i];
      if (!code.is_string() || code.get_string().empty()) {
        fail("other_codes[" + std::to_string(i) + "]", "expected a non-empty string");
      }
      c.other_codes.emplace_back(code.get_string());
    }
  }
  c.region = optional_string(o, "region");
  if (const json::value* count = find(o, "snp_count_this_week"); count != nullptr && !count->is_null()) {
    if (!count->is_int64() || count->get_int64() < 0 || count->get_int64() > 10000) {
      fail("snp_count_this_week", "expected a whole number from 0 (SNP already billed this week)");
    }
    c.snp_count_this_week = static_cast<int>(count->get_int64());
  }
  return c;
}

Consultation parse_consultation(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) throw BillingError("consultation: not valid JSON: " + ec.message());
  return consultation_from_json(value);
}

json::object consultation_to_json(const Consultation& c) {
  json::array codes;
  for (const auto& code : c.other_codes) codes.emplace_back(code);
  json::object o{{"consultation_id", c.id},
                 {"practitioner", c.practitioner_id},
                 {"consulted_at", sas::sdk::datetime::format_paris(c.consulted_at, false)},
                 {"regulated_at", sas::sdk::datetime::format_paris(c.regulated_at, false)},
                 {"medecin_traitant", c.medecin_traitant},
                 {"specialty", c.specialty},
                 {"opposable_tariff", c.opposable_tariff},
                 {"tariff_sector", c.tariff_sector},
                 {"other_codes", std::move(codes)},
                 {"region", c.region}};
  if (c.snp_count_this_week) o["snp_count_this_week"] = *c.snp_count_this_week;
  return o;
}

json::object decision_to_json(const Decision& d) {
  json::array reasons;
  for (const auto& r : d.reasons) {
    reasons.push_back(
        json::object{{"rule", r.rule}, {"met", r.met}, {"fr", r.fr}, {"en", r.en}, {"reference", r.reference}});
  }
  return json::object{{"code", d.code.empty() ? std::string("none") : d.code},
                      {"candidate", d.candidate},
                      {"parcours_indicator", d.parcours_indicator},
                      {"amount_euros", format_euros(d.amount_cents)},
                      {"amount_cents", d.amount_cents},
                      {"rule_set", d.rule_set},
                      {"snp_count_this_week", d.snp_count_this_week},
                      {"reasons", std::move(reasons)}};
}

}  // namespace sas::host::billing
