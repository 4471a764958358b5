#include <map>
#include <sas/host/billing/calendar.hpp>
#include <sas/host/billing/json.hpp>
#include <sas/host/billing/service.hpp>

namespace sas::host::billing {
namespace {

namespace json = boost::json;
using namespace std::chrono;

system_clock::time_point to_system(Instant t) { return system_clock::time_point(t.time_since_epoch()); }
Instant from_system(system_clock::time_point t) { return floor<milliseconds>(t); }

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// The reasons not met, in French and English, "; "-separated.
std::string refusals(const Decision& d, bool french) {
  std::string text;
  for (const auto& r : d.reasons) {
    if (r.met) continue;
    text += (text.empty() ? "" : "; ") + (french ? r.fr : r.en);
  }
  return text;
}

std::vector<ConsultationRecord> records(ConsultationLedger& ledger, const ReportOptions& o) {
  return ledger.consultations(o.practitioner_id, to_system(o.from), to_system(o.to));
}

}  // namespace

std::string week_start_text(Instant t) {
  const year_month_day d{week_start(floor<minutes>(sas::sdk::datetime::to_paris_local(t)))};
  char text[16];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return text;
}

Decision decision_from_json(const std::string& text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) throw BillingError("recorded decision: not valid JSON");
  const json::object& o = value.get_object();
  Decision d;
  const std::string code(o.at("code").as_string());
  d.code = code == "none" ? "" : code;
  d.candidate = o.at("candidate").as_string();
  d.parcours_indicator = o.at("parcours_indicator").as_string();
  d.amount_cents = o.at("amount_cents").as_int64();
  d.rule_set = o.at("rule_set").as_string();
  d.snp_count_this_week = static_cast<int>(o.at("snp_count_this_week").as_int64());
  for (const auto& item : o.at("reasons").as_array()) {
    const json::object& r = item.as_object();
    d.reasons.push_back(Reason{std::string(r.at("rule").as_string()), r.at("met").as_bool(),
                               std::string(r.at("fr").as_string()), std::string(r.at("en").as_string()),
                               std::string(r.at("reference").as_string())});
  }
  return d;
}

BillingService::BillingService(std::shared_ptr<const RuleBook> rules, std::shared_ptr<ConsultationLedger> ledger)
    : rules_(std::move(rules)), ledger_(std::move(ledger)) {}

Decision BillingService::explain(const Consultation& c) const {
  int before = c.snp_count_this_week.value_or(0);
  if (ledger_) before = ledger_->count_snp_in_week(c.practitioner_id, week_start_text(c.consulted_at), c.id);
  return decide(*rules_, c, before);
}

Decision BillingService::report(const Consultation& c) const {
  if (!ledger_) return explain(c);
  if (c.id.empty()) throw BillingError("consultation: field \"consultation_id\": needed to record a consultation");
  ConsultationRecord facts;
  facts.consultation_id = c.id;
  facts.practitioner_id = c.practitioner_id;
  facts.consulted_at = to_system(c.consulted_at);
  facts.regulated_at = to_system(c.regulated_at);
  facts.week_start = week_start_text(c.consulted_at);
  Consultation stored = c;
  stored.snp_count_this_week.reset();  // the ledger's count is the truth
  facts.consultation = json::serialize(consultation_to_json(stored));
  facts.recorded_at = system_clock::now();
  Decision decision;
  auto [record, created] = ledger_->record(facts, [&](int before, ConsultationRecord& row) {
    decision = decide(*rules_, c, before);
    row.code = decision.code.empty() ? "none" : decision.code;
    row.parcours_indicator = decision.parcours_indicator;
    row.amount_cents = decision.amount_cents;
    row.rule_set = decision.rule_set;
    row.decision = json::serialize(decision_to_json(decision));
  });
  return created ? decision : decision_from_json(record.decision);
}

std::string report_json(ConsultationLedger& ledger, const ReportOptions& o) {
  json::array consultations;
  std::map<std::string, int> weeks;
  int snp = 0;
  int mrt = 0;
  int none = 0;
  int64_t cents = 0;
  for (const auto& record : records(ledger, o)) {
    const Decision d = decision_from_json(record.decision);
    json::object row{{"consultation_id", record.consultation_id},
                     {"consulted_at", sas::sdk::datetime::format_paris(from_system(record.consulted_at), false)},
                     {"regulated_at", sas::sdk::datetime::format_paris(from_system(record.regulated_at), false)},
                     {"week_start", record.week_start},
                     {"decision", decision_to_json(d)}};
    consultations.push_back(std::move(row));
    weeks.try_emplace(record.week_start, 0);
    if (record.code == "SNP") {
      ++snp;
      ++weeks[record.week_start];
    } else if (record.code == "MRT") {
      ++mrt;
    } else {
      ++none;
    }
    cents += record.amount_cents;
  }
  json::array week_rows;
  for (const auto& [week, count] : weeks) {
    // The week's count over every consultation recorded, not only those in [from, to).
    week_rows.push_back(json::object{{"week_start", week},
                                     {"snp_count", ledger.count_snp_in_week(o.practitioner_id, week)},
                                     {"snp_in_period", count}});
  }
  json::object out{{"practitioner", o.practitioner_id},
                   {"from", sas::sdk::datetime::format_paris(o.from, false)},
                   {"to", sas::sdk::datetime::format_paris(o.to, false)},
                   {"consultations", std::move(consultations)},
                   {"weeks", std::move(week_rows)},
                   {"totals", json::object{{"snp", snp},
                                           {"mrt", mrt},
                                           {"none", none},
                                           {"amount_euros", format_euros(cents)},
                                           {"amount_cents", cents}}}};
  return json::serialize(out) + "\n";
}

std::string report_csv(ConsultationLedger& ledger, const ReportOptions& o) {
  std::string out =
      "consultation_id,consulted_at,regulated_at,code,parcours_indicator,amount_euros,rule_set,week_start,"
      "week_snp_count,refusals_fr,refusals_en\n";
  std::map<std::string, int> week_counts;
  for (const auto& record : records(ledger, o)) {
    const Decision d = decision_from_json(record.decision);
    auto count = week_counts.find(record.week_start);
    if (count == week_counts.end()) {
      count =
          week_counts.emplace(record.week_start, ledger.count_snp_in_week(o.practitioner_id, record.week_start)).first;
    }
    out += csv_field(record.consultation_id) + "," +
           sas::sdk::datetime::format_paris(from_system(record.consulted_at), false) + "," +
           sas::sdk::datetime::format_paris(from_system(record.regulated_at), false) + "," + record.code + "," +
           record.parcours_indicator + "," + format_euros(record.amount_cents) + "," + csv_field(record.rule_set) +
           "," + record.week_start + "," + std::to_string(count->second) + "," + csv_field(refusals(d, true)) + "," +
           csv_field(refusals(d, false)) + "\n";
  }
  return out;
}

std::optional<Instant> parse_report_bound(std::string_view text, bool end, std::string* error) {
  if (text.size() == 10) {  // YYYY-MM-DD: the day in Europe/Paris
    auto t = sas::sdk::datetime::parse_fhir(std::string(text) + "T00:00:00+00:00", error);
    if (!t) return std::nullopt;
    const auto local = std::chrono::local_time<std::chrono::milliseconds>(t->time_since_epoch());
    return sas::sdk::datetime::from_paris_local(local + (end ? std::chrono::days(1) : std::chrono::days(0)));
  }
  return sas::sdk::datetime::parse_fhir(text, error);
}

}  // namespace sas::host::billing
