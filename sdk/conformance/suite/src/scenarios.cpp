// The suite's scenarios: INT_R01 query forms and refusals, INT_R02 accounts, latency.
#include <sas/conformance/scenarios.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <random>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>
#include <set>
#include <sstream>

namespace sas::conformance {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kIdnps = "urn:oid:1.2.250.1.71.4.2.1";
constexpr std::string_view kIdnst = "urn:oid:1.2.250.1.71.4.2.2";
constexpr std::string_view kCapabilityCpts =
    "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-CPTS";
constexpr std::string_view kCapabilitySos =
    "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-SOS";

// The window starts at --now to the second: the query forms without milliseconds (R01-QUERY-004,
// SOS-QUERY-002) then ask for the very same window as the others.
Instant window_start(const ScenarioOptions& options) { return std::chrono::floor<std::chrono::seconds>(options.now); }

void progress(const ScenarioOptions& options, std::string_view line) {
  if (options.progress) options.progress(line);
}

std::string date(Instant t, bool millis, const std::string& plus) {
  std::string s = sas::sdk::datetime::format_paris(t, millis);
  std::string out;
  for (char c : s) out += c == '+' ? plus : std::string(1, c);
  return out;
}

std::optional<json::value> parse(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec) return std::nullopt;
  return v;
}

std::string resource_type(const json::value& v) {
  if (!v.is_object()) return {};
  const auto* rt = v.as_object().if_contains("resourceType");
  return rt && rt->is_string() ? std::string(rt->as_string()) : std::string();
}

// The Slot ids of an answer, sorted, and its total: what "the same answer" compares.
std::pair<std::vector<std::string>, int64_t> slots_of(const json::value& bundle) {
  std::vector<std::string> ids;
  int64_t total = -1;
  if (!bundle.is_object()) return {ids, total};
  const auto& o = bundle.as_object();
  if (const auto* t = o.if_contains("total"); t && t->is_number()) total = t->to_number<int64_t>();
  if (const auto* entries = o.if_contains("entry"); entries && entries->is_array())
    for (const auto& e : entries->as_array()) {
      const auto* r = e.is_object() ? e.as_object().if_contains("resource") : nullptr;
      if (r && resource_type(*r) == "Slot") {
        const auto* id = r->as_object().if_contains("id");
        ids.push_back(id && id->is_string() ? std::string(id->as_string()) : std::string());
      }
    }
  std::sort(ids.begin(), ids.end());
  return {ids, total};
}

std::string describe(const HttpReply& r) {
  if (!r.transport_ok) return "no HTTP answer: " + r.error;
  return "HTTP " + std::to_string(r.status) + (r.content_type.empty() ? "" : " (" + r.content_type + ")");
}

// What an answer of one search is checked with: the document checks and the ids they can fail.
struct AnswerChecks {
  std::vector<Finding> (*check)(const Catalogue&, const ProfileSet&, const json::value&, const std::string&,
                                const SearchContext&);
  std::vector<std::string> (*ids)(const Catalogue&);
};
constexpr AnswerChecks kSlotAnswer{check_search_bundle, search_bundle_check_ids};
constexpr AnswerChecks kCptsAnswer{check_cpts_bundle, cpts_bundle_check_ids};
constexpr AnswerChecks kSosAnswer{check_sos_bundle, sos_bundle_check_ids};

// A search answer: 200 + searchset Bundle, checked; returns the Bundle (nullopt on failure).
std::optional<json::value> search(Run& run, Transport& transport, const ProfileSet& profiles, const std::string& id,
                                  const std::string& label, const std::string& target, const SearchContext& context,
                                  const AnswerChecks& checks = kSlotAnswer) {
  HttpReply r = transport.send("GET", target);
  auto body = r.transport_ok ? parse(r.body) : std::nullopt;
  if (!r.transport_ok || r.status != 200 || !body || resource_type(*body) != "Bundle") {
    run.fail({id, label, "", "GET " + target + ": " + describe(r) + ", expected 200 with a searchset Bundle"});
    if (body) run.document(label, *body);
    return std::nullopt;
  }
  run.ran(id);
  for (const auto& check : checks.ids(run.catalogue())) run.ran(check);
  run.document(label, *body);
  run.add(checks.check(run.catalogue(), profiles, *body, label, context));
  return body;
}

// A search that matches nothing: 200, a searchset Bundle, `total: 0`, no Slot. The Bundle is not
// judged by the CPTS or SOS Bundle profiles, which require 4 entries (Bundle.entry 4..*): an empty
// searchset cannot have them, and the IG's FAQ 9 makes `total: 0` the answer.
void expect_no_match(Run& run, Transport& transport, const std::string& id, const std::string& target) {
  if (!run.selected(id)) return;
  const std::string label = id + " answer";
  HttpReply r = transport.send("GET", target);
  auto body = r.transport_ok ? parse(r.body) : std::nullopt;
  if (!r.transport_ok || r.status != 200 || !body || resource_type(*body) != "Bundle") {
    run.fail({id, label, "", "GET " + target + ": " + describe(r) + ", expected 200 with an empty Bundle, total: 0"});
    if (body) run.document(label, *body);
    return;
  }
  run.document(label, *body);
  auto [slot_ids, total] = slots_of(*body);
  if (total != 0 || !slot_ids.empty())
    run.fail({id, label, "total",
              "no match must be answered total: 0 and no Slot, got " +
                  (total < 0 ? std::string("no total") : "total " + std::to_string(total)) + " and " +
                  std::to_string(slot_ids.size()) + " Slots"});
  else
    run.ran(id);
}

std::optional<json::value> capability_statement(Transport& transport) {
  HttpReply r = transport.send("GET", "/metadata");
  auto body = r.transport_ok && r.status == 200 ? parse(r.body) : std::nullopt;
  if (!body || resource_type(*body) != "CapabilityStatement") return std::nullopt;
  return body;
}

// The resource entries of the CapabilityStatement's server rest parts.
std::vector<const json::object*> capability_resources(const json::value& statement) {
  std::vector<const json::object*> out;
  if (const auto* rest = statement.as_object().if_contains("rest"); rest && rest->is_array())
    for (const auto& server : rest->as_array())
      if (const auto* resources = server.is_object() ? server.as_object().if_contains("resource") : nullptr;
          resources && resources->is_array())
        for (const auto& res : resources->as_array())
          if (res.is_object()) out.push_back(&res.as_object());
  return out;
}

bool lists(const json::object& o, std::string_view key, std::string_view value) {
  if (const auto* list = o.if_contains(key); list && list->is_array())
    for (const auto& v : list->as_array())
      if (v.is_string() && v.as_string() == value) return true;
  return false;
}

// Every check of a flow (its written and profile checks) gets the same note.
void note_flow(Run& run, std::string_view flow, const std::string& text) {
  for (const auto& c : run.catalogue().checks())
    if (c.flow == flow) run.note(c.id, text);
}

void expect_refusal(Run& run, Transport& transport, const std::string& id, const std::string& target) {
  if (!run.selected(id)) return;
  HttpReply r = transport.send("GET", target);
  auto body = r.transport_ok ? parse(r.body) : std::nullopt;
  if (!r.transport_ok || r.status < 400 || r.status > 499) {
    run.fail({id, id, "", "GET " + target + ": " + describe(r) + ", expected a 4xx with an OperationOutcome"});
  } else if (!body || resource_type(*body) != "OperationOutcome") {
    run.fail({id, id, "", "GET " + target + ": " + describe(r) + " without an OperationOutcome body"});
  } else {
    run.ran(id);
  }
}

std::string fresh_digits(std::mt19937_64& random, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>('0' + random() % 10);
  return out;
}

std::string fresh_uuid(std::mt19937_64& random) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    out += hex[random() % 16];
  }
  out[14] = '4';
  return out;
}

json::object load_example(const std::filesystem::path& ig_dir, const std::string& name) {
  std::ifstream in(ig_dir / "example" / name, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + (ig_dir / "example" / name).string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto v = json::parse(buffer.str()).as_object();
  v.erase("text");
  return v;
}

void set_identifier(json::object& practitioner, const std::string& value) {
  practitioner["identifier"].as_array()[0].as_object()["value"] = value;
}

// The resource a Location header names, without its version: FHIR R4 create SHALL return
// `[base]/[type]/[id]/_history/[vid]`, so two answers about one account differ by their version.
std::string unversioned(const std::string& location) {
  const auto history = location.find("/_history/");
  return history == std::string::npos ? location : location.substr(0, history);
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

}  // namespace

std::string HttpReply::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < key.size(); ++i)
      same &= std::tolower(static_cast<unsigned char>(key[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return value;
  }
  return {};
}

std::string rpps_with_key(std::string_view ten_digits) {
  for (char d = '0'; d <= '9'; ++d) {
    std::string candidate = std::string(ten_digits) + d;
    if (sas::sdk::ids::has_valid_check_digit(candidate)) return "8" + candidate;
  }
  return "8" + std::string(ten_digits) + "0";
}

namespace {

std::string slot_query_with(const std::vector<std::string>& ids, Instant from, Instant to, const QueryForm& form,
                            const std::string& includes) {
  std::string list;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::string value = ids[i];
    if (form.unprefixed && !value.empty()) value = value.substr(1);
    list += (i ? form.separator : "") + std::string(kIdnps) + form.bar + value;
  }
  const std::string starts =
      "start=ge" + date(from, form.millis, form.plus) + "&start=le" + date(to, form.millis, form.plus);
  const std::string identifiers = "schedule.actor:Practitioner.identifier=" + list;
  std::string q = form.reordered ? "status=free&" + includes + "&" + identifiers + "&" + starts
                                 : includes + "&" + starts + "&" + identifiers + "&status=free";
  if (form.count >= 0) q += "&_count=" + std::to_string(form.count);
  return "/Slot?" + q;
}

}  // namespace

std::string slot_query(const std::vector<std::string>& ids, Instant from, Instant to, const QueryForm& form) {
  return slot_query_with(ids, from, to, form, "_include=Slot:schedule&_include:iterate=Schedule:actor");
}

std::string cpts_query(const std::vector<std::string>& ids, Instant from, Instant to, const QueryForm& form,
                       bool organization_include) {
  // The IG page's order: the INT_R01 includes, then the CPTS ones.
  return slot_query_with(
      ids, from, to, form,
      "_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference" +
          std::string(organization_include ? "&_include:iterate=HealthcareService:organization" : ""));
}

std::string sos_query(const std::vector<std::string>& sirets, Instant from, Instant to, const QueryForm& form) {
  std::string list;
  for (std::size_t i = 0; i < sirets.size(); ++i) list += (i ? "," : "") + std::string(kIdnst) + form.bar + sirets[i];
  std::string q =
      "_revinclude=Slot:schedule&_include=Schedule:actor:Location&_include:iterate=Location:organization"
      "&_has:Slot:schedule:start=ge" +
      date(from, form.millis, form.plus) + "&_has:Slot:schedule:start=le" + date(to, form.millis, form.plus) +
      "&_has:Slot:schedule:status=free&actor:Location.organization.identifier=" + list;
  if (form.count >= 0) q += "&_count=" + std::to_string(form.count);
  return "/Schedule?" + q;
}

std::string siret_with_key(std::string_view thirteen_digits) {
  for (char d = '0'; d <= '9'; ++d) {
    std::string candidate = std::string(thirteen_digits) + d;
    if (sas::sdk::ids::has_valid_check_digit(candidate)) return "3" + candidate;
  }
  return "3" + std::string(thirteen_digits) + "0";
}

DeclaredSearches declared_searches(Transport& transport) {
  DeclaredSearches out;
  auto statement = capability_statement(transport);
  if (!statement) return out;
  out.capability = true;
  const auto& cs = statement->as_object();
  out.cpts = lists(cs, "instantiates", kCapabilityCpts);
  out.sos = lists(cs, "instantiates", kCapabilitySos);
  for (const auto* res : capability_resources(*statement)) {
    const auto* type = res->if_contains("type");
    if (!type || !type->is_string()) continue;
    if (type->as_string() == "Slot" && lists(*res, "searchInclude", "Slot:service-type-reference")) out.cpts = true;
    if (type->as_string() == "Schedule" && lists(*res, "searchRevInclude", "Slot:schedule")) out.sos = true;
  }
  return out;
}

void run_search_scenarios(Run& run, Transport& transport, const ProfileSet& profiles, const ScenarioOptions& options) {
  const Instant from = window_start(options);
  const Instant to = from + options.window;
  const auto& ids = options.practitioners;
  SearchContext context;
  context.from = from;
  context.to = to;
  context.practitioners = std::set<std::string>(ids.begin(), ids.end());

  progress(options, "INT_R01: the platform's query");
  const std::string canonical_target = slot_query(ids, from, to);
  auto canonical = search(run, transport, profiles, "R01-QUERY-001", "R01-QUERY-001 answer", canonical_target, context);
  if (canonical) {
    // The practitioners the test data declares are found with the prefixed ids the platform sends.
    std::set<std::string> found;
    for (const auto& e : canonical->as_object().at("entry").is_array() ? canonical->as_object().at("entry").as_array()
                                                                       : json::array{}) {
      const auto* r = e.is_object() ? e.as_object().if_contains("resource") : nullptr;
      if (!r || resource_type(*r) != "Practitioner") continue;
      if (const auto* list = r->as_object().if_contains("identifier"); list && list->is_array())
        for (const auto& i : list->as_array())
          if (const auto* v = i.is_object() ? i.as_object().if_contains("value") : nullptr; v && v->is_string())
            found.insert(std::string(v->as_string()));
    }
    for (const auto& id : ids)
      if (!found.contains(id))
        run.fail({"R01-FAQ-01", "R01-QUERY-001 answer", "",
                  "practitioner " + id +
                      " (declared with free slots in the window) is missing from the answer: is the stored id "
                      "compared without normalising its prefix?"});
  }
  const auto reference = canonical ? slots_of(*canonical) : std::pair<std::vector<std::string>, int64_t>{};

  struct Variant {
    const char* id;
    QueryForm form;
  };
  std::vector<Variant> variants = {
      {"R01-QUERY-002", QueryForm{.bar = "%7C"}},      {"R01-QUERY-003", QueryForm{.plus = "+"}},
      {"R01-QUERY-004", QueryForm{.millis = false}},   {"R01-QUERY-005", QueryForm{.separator = ",%20"}},
      {"R01-QUERY-006", QueryForm{.reordered = true}}, {"R01-QUERY-008", QueryForm{.unprefixed = true}},
  };
  progress(options, "INT_R01: the other query forms");
  for (const auto& v : variants) {
    if (!run.selected(v.id)) continue;
    const std::string target = slot_query(ids, from, to, v.form);
    const std::string label = std::string(v.id) + " answer";
    auto answer = search(run, transport, profiles, v.id, label, target, context);
    if (answer && canonical && slots_of(*answer) != reference)
      run.fail({v.id, label, "", "GET " + target + " answers other slots (or another total) than R01-QUERY-001"});
  }
  if (run.selected("R01-QUERY-007")) {
    SearchContext counted = context;
    counted.count_given = true;
    const std::string target = slot_query(ids, from, to, QueryForm{.count = 1});
    auto answer = search(run, transport, profiles, "R01-QUERY-007", "R01-QUERY-007 answer", target, counted);
    if (answer && canonical) {
      auto [slot_ids, total] = slots_of(*answer);
      if (slot_ids.size() > 1)
        run.fail({"R01-QUERY-007", "R01-QUERY-007 answer", "entry", "_count=1 but more than one Slot"});
      if (total != reference.second)
        run.fail({"R01-QUERY-007", "R01-QUERY-007 answer", "total", "_count changed total (it caps the entries only)"});
    }
  }
  if (run.selected("R01-QUERY-009") || run.selected("R01-FAQ-09")) {
    progress(options, "INT_R01: an unknown practitioner");
    const std::string unknown = rpps_with_key("9999999999");
    SearchContext none = context;
    none.practitioners = {unknown};
    auto answer = search(run, transport, profiles, "R01-QUERY-009", "R01-QUERY-009 answer",
                         slot_query({unknown}, from, to), none);
    if (answer) {
      auto [slot_ids, total] = slots_of(*answer);
      if (total != 0 || !slot_ids.empty()) {
        run.fail({"R01-QUERY-009", "R01-QUERY-009 answer", "total", "an unknown practitioner must give total 0"});
        run.fail({"R01-FAQ-09", "R01-QUERY-009 answer", "total", "no match must be answered total: 0"});
      }
      run.ran("R01-FAQ-09");
    } else {
      run.fail({"R01-FAQ-09", "R01-QUERY-009 answer", "", "no match must be a 200 with total: 0, not an error"});
    }
  }
  progress(options, "INT_R01: requests the server must refuse");
  const std::string ge = "start=ge" + date(from, true, "%2B");
  const std::string le = "start=le" + date(to, true, "%2B");
  std::string list;
  for (std::size_t i = 0; i < ids.size(); ++i) list += (i ? "," : "") + std::string(kIdnps) + "|" + ids[i];
  const std::string head = "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&";
  const std::string who = "schedule.actor:Practitioner.identifier=" + list;
  expect_refusal(run, transport, "R01-QUERY-010", head + le + "&" + who + "&status=free");
  expect_refusal(run, transport, "R01-QUERY-011", head + ge + "&" + who + "&status=free");
  expect_refusal(run, transport, "R01-QUERY-012",
                 head + "start=ge2026-13-45T25:61:00.000%2B01:00&" + le + "&" + who + "&status=free");
  expect_refusal(run, transport, "R01-QUERY-013", slot_query(ids, to, from));
  {
    std::vector<std::string> many = ids;
    for (int i = 0; many.size() <= 25; ++i) many.push_back(rpps_with_key("98765432" + std::to_string(10 + i)));
    expect_refusal(run, transport, "R01-QUERY-014", slot_query(many, from, to));
  }
  {
    std::string other;
    for (std::size_t i = 0; i < ids.size(); ++i) other += (i ? "," : "") + std::string("urn:oid:1.2.3.4|") + ids[i];
    expect_refusal(run, transport, "R01-QUERY-015",
                   head + ge + "&" + le + "&schedule.actor:Practitioner.identifier=" + other + "&status=free");
  }
  expect_refusal(run, transport, "R01-QUERY-016", head + ge + "&" + le + "&" + who);

  if (run.selected("R01-QUERY-017")) {
    progress(options, "INT_R01: /metadata");
    HttpReply r = transport.send("GET", "/metadata");
    auto body = r.transport_ok ? parse(r.body) : std::nullopt;
    bool slot_search = false;
    if (body && resource_type(*body) == "CapabilityStatement")
      if (const auto* rest = body->as_object().if_contains("rest"); rest && rest->is_array())
        for (const auto& server : rest->as_array())
          if (const auto* resources = server.is_object() ? server.as_object().if_contains("resource") : nullptr;
              resources && resources->is_array())
            for (const auto& res : resources->as_array()) {
              if (!res.is_object() || !res.as_object().contains("type") || res.as_object().at("type") != "Slot")
                continue;
              if (const auto* inter = res.as_object().if_contains("interaction"); inter && inter->is_array())
                for (const auto& i : inter->as_array())
                  if (i.is_object() && i.as_object().contains("code") && i.as_object().at("code") == "search-type")
                    slot_search = true;
            }
    if (!slot_search)
      run.fail({"R01-QUERY-017", "GET /metadata", "", describe(r) + ": no CapabilityStatement with Slot search-type"});
    else
      run.ran("R01-QUERY-017");
  }
}

void run_cpts_scenarios(Run& run, Transport& transport, const ProfileSet& profiles, const ScenarioOptions& options) {
  if (!run.any_selected("R04-")) return;
  progress(options, "INT_R04: the CPTS search");
  const DeclaredSearches declared = declared_searches(transport);
  if (!declared.cpts) {
    note_flow(run, "INT_R04",
              std::string("not declared: ") +
                  (declared.capability ? "the CapabilityStatement (GET [base]/metadata) declares no CPTS search"
                                       : "no CapabilityStatement at GET [base]/metadata") +
                  " (Slot searchInclude Slot:service-type-reference, or instantiates SAS-GestionnaireAgenda-CPTS)" +
                  (options.cpts_practitioners.empty() ? "" : "; --cpts-practitioners not used"));
    return;
  }
  const Instant from = window_start(options);
  const Instant to = from + options.window;
  std::vector<std::string> ids = options.cpts_practitioners;
  if (!options.cpts_two.empty() && std::find(ids.begin(), ids.end(), options.cpts_two) == ids.end())
    ids.push_back(options.cpts_two);
  SearchContext context;
  context.from = from;
  context.to = to;
  context.practitioners = std::set<std::string>(ids.begin(), ids.end());
  context.cpts_practitioners =
      std::set<std::string>(options.cpts_practitioners.begin(), options.cpts_practitioners.end());
  if (!options.cpts_two.empty()) context.cpts_two = {options.cpts_two};
  if (ids.empty()) {
    // The searches the suite can make without test data still run below.
    for (const auto& c : run.catalogue().checks())
      if (c.flow == "INT_R04" && c.id != "R04-QUERY-004" && c.id != "R04-QUERY-005" && c.id != "R04-QUERY-006" &&
          c.id != "R04-QUERY-007")
        run.note(
            c.id,
            "the endpoint declares the CPTS search: give --cpts-practitioners (and --cpts-two-cpts) to certify its "
            "answers");
  } else {
    auto canonical = search(run, transport, profiles, "R04-QUERY-001", "R04-QUERY-001 answer",
                            cpts_query(ids, from, to), context, kCptsAnswer);
    const auto reference = canonical ? slots_of(*canonical) : std::pair<std::vector<std::string>, int64_t>{};
    if (run.selected("R04-QUERY-002")) {
      progress(options, "INT_R04: the other query forms");
      const std::string target = cpts_query(ids, from, to, QueryForm{.bar = "%7C", .plus = "+", .reordered = true});
      auto answer =
          search(run, transport, profiles, "R04-QUERY-002", "R04-QUERY-002 answer", target, context, kCptsAnswer);
      if (answer && canonical && slots_of(*answer) != reference)
        run.fail({"R04-QUERY-002", "R04-QUERY-002 answer", "",
                  "GET " + target + " answers other slots (or another total) than R04-QUERY-001"});
    }
    if (run.selected("R04-QUERY-003")) {
      // Not judged as a CPTS answer: without `_include:iterate=HealthcareService:organization`, FHIR lets
      // the server leave the Organizations out.
      const std::string target = cpts_query(ids, from, to, {}, false);
      HttpReply r = transport.send("GET", target);
      auto body = r.transport_ok ? parse(r.body) : std::nullopt;
      if (!r.transport_ok || r.status != 200 || !body || resource_type(*body) != "Bundle")
        run.fail({"R04-QUERY-003", "R04-QUERY-003 answer", "",
                  "GET " + target + ": " + describe(r) + ", expected 200 with a searchset Bundle"});
      else if (canonical && slots_of(*body).first != reference.first)
        run.fail(
            {"R04-QUERY-003", "R04-QUERY-003 answer", "", "GET " + target + " answers other slots than R04-QUERY-001"});
      else
        run.ran("R04-QUERY-003");
      if (body) run.document("R04-QUERY-003 answer", *body);
    }
  }
  progress(options, "INT_R04: requests the server must refuse, and no match");
  const std::vector<std::string> some = ids.empty() ? std::vector<std::string>{rpps_with_key("9999999998")} : ids;
  {
    // start=ge left out of the platform's query.
    std::string target = cpts_query(some, from, to);
    const auto ge = target.find("&start=ge");
    target.erase(ge, target.find('&', ge + 1) - ge);
    expect_refusal(run, transport, "R04-QUERY-004", target);
  }
  {
    std::vector<std::string> many = some;
    for (int i = 0; many.size() <= 25; ++i) many.push_back(rpps_with_key("98765432" + std::to_string(10 + i)));
    expect_refusal(run, transport, "R04-QUERY-005", cpts_query(many, from, to));
  }
  expect_refusal(run, transport, "R04-QUERY-006", cpts_query(some, from, to) + "&_include=Slot:unknown");
  expect_no_match(run, transport, "R04-QUERY-007", cpts_query({rpps_with_key("9999999999")}, from, to));
}

void run_sos_scenarios(Run& run, Transport& transport, const ProfileSet& profiles, const ScenarioOptions& options) {
  if (!run.any_selected("SOS-")) return;
  progress(options, "SOS: the SOS Médecins search");
  const DeclaredSearches declared = declared_searches(transport);
  if (!declared.sos) {
    note_flow(run, "SOS",
              std::string("not declared: ") +
                  (declared.capability ? "the CapabilityStatement (GET [base]/metadata) declares no SOS search"
                                       : "no CapabilityStatement at GET [base]/metadata") +
                  " (Schedule searchRevInclude Slot:schedule, or instantiates SAS-GestionnaireAgenda-SOS)" +
                  (options.sos_sirets.empty() ? "" : "; --sos-sirets not used"));
    return;
  }
  const Instant from = window_start(options);
  const Instant to = from + options.window;
  const auto& sirets = options.sos_sirets;
  SearchContext context;
  context.from = from;
  context.to = to;
  context.sirets = std::set<std::string>(sirets.begin(), sirets.end());
  context.sos_declared = context.sirets;
  // Unknown associations: valid SIRETs (with their key) no agenda holds.
  std::vector<std::string> unknown;
  for (int i = 0; unknown.size() < 26; ++i) unknown.push_back(siret_with_key("9876543210" + std::to_string(100 + i)));
  if (sirets.empty()) {
    for (const auto& c : run.catalogue().checks())
      if (c.flow == "SOS" && c.id != "SOS-QUERY-004" && c.id != "SOS-QUERY-005" && c.id != "SOS-QUERY-006")
        run.note(c.id, "the endpoint declares the SOS search: give --sos-sirets to certify its answers");
  } else {
    context.request_target = sos_query(sirets, from, to);
    auto canonical = search(run, transport, profiles, "SOS-QUERY-001", "SOS-QUERY-001 answer", context.request_target,
                            context, kSosAnswer);
    const auto reference = canonical ? slots_of(*canonical) : std::pair<std::vector<std::string>, int64_t>{};
    if (run.selected("SOS-QUERY-002")) {
      SearchContext counted = context;
      counted.count_given = true;
      counted.request_target =
          sos_query(sirets, from, to, QueryForm{.bar = "%7C", .plus = "+", .millis = false, .count = 1000});
      auto answer = search(run, transport, profiles, "SOS-QUERY-002", "SOS-QUERY-002 answer", counted.request_target,
                           counted, kSosAnswer);
      if (answer && canonical && slots_of(*answer).first != reference.first)
        run.fail({"SOS-QUERY-002", "SOS-QUERY-002 answer", "",
                  "GET " + counted.request_target + " answers other slots than SOS-QUERY-001"});
    }
    if (run.selected("SOS-QUERY-003")) {
      progress(options, "SOS: 25 associations");
      std::vector<std::string> many = sirets;
      for (std::size_t i = 0; many.size() < 25; ++i) many.push_back(unknown[i]);
      SearchContext wide = context;
      wide.sirets = std::set<std::string>(many.begin(), many.end());
      wide.request_target = sos_query(many, from, to);
      auto answer = search(run, transport, profiles, "SOS-QUERY-003", "SOS-QUERY-003 answer", wide.request_target, wide,
                           kSosAnswer);
      if (answer && canonical && slots_of(*answer) != reference)
        run.fail({"SOS-QUERY-003", "SOS-QUERY-003 answer", "",
                  "25 SIRETs (" + std::to_string(sirets.size()) +
                      " declared, the others unknown) answer other slots (or another total) than SOS-QUERY-001"});
    }
  }
  progress(options, "SOS: requests the server must refuse, and no match");
  {
    std::vector<std::string> too_many = sirets;
    for (std::size_t i = 0; too_many.size() < 26; ++i) too_many.push_back(unknown[i]);
    expect_refusal(run, transport, "SOS-QUERY-004", sos_query(too_many, from, to));
  }
  {
    std::string target = sos_query(sirets.empty() ? std::vector<std::string>{unknown[0]} : sirets, from, to);
    const auto ge = target.find("&_has:Slot:schedule:start=ge");
    target.erase(ge, target.find('&', ge + 1) - ge);
    expect_refusal(run, transport, "SOS-QUERY-005", target);
  }
  expect_no_match(run, transport, "SOS-QUERY-006", sos_query({unknown[25]}, from, to));
}

void run_account_scenarios(Run& run, Transport& transport, const ProfileSet& profiles, const ScenarioOptions& options) {
  if (!run.any_selected("R02-")) return;
  progress(options, "INT_R02: regulator accounts");
  // Only when the server says it manages accounts.
  HttpReply meta = transport.send("GET", "/metadata");
  auto capability = meta.transport_ok ? parse(meta.body) : std::nullopt;
  bool accounts = false;
  if (capability && resource_type(*capability) == "CapabilityStatement")
    if (const auto* rest = capability->as_object().if_contains("rest"); rest && rest->is_array())
      for (const auto& server : rest->as_array())
        if (const auto* resources = server.is_object() ? server.as_object().if_contains("resource") : nullptr;
            resources && resources->is_array())
          for (const auto& res : resources->as_array()) {
            if (!res.is_object() || !res.as_object().contains("type") || res.as_object().at("type") != "Practitioner")
              continue;
            if (const auto* inter = res.as_object().if_contains("interaction"); inter && inter->is_array())
              for (const auto& i : inter->as_array())
                if (i.is_object() && i.as_object().contains("code") &&
                    (i.as_object().at("code") == "create" || i.as_object().at("code") == "update"))
                  accounts = true;
          }
  if (!accounts) {
    for (const auto& c : run.catalogue().checks())
      if (c.group == "R02" || (c.flow == "INT_R02" && c.group == "PROFILE"))
        run.note(c.id, "the CapabilityStatement declares no Practitioner create/update (INT_R02 not offered)");
    return;
  }
  // Fresh identifiers every run (an endpoint keeps its accounts); they never appear in the report.
  std::random_device seed;
  std::mt19937_64 random(seed());
  const std::string post_target = "/Practitioner";
  auto refused_with_outcome = [&](const HttpReply& r, long low, long high) {
    auto body = r.transport_ok ? parse(r.body) : std::nullopt;
    return r.transport_ok && r.status >= low && r.status <= high && body && resource_type(*body) == "OperationOutcome";
  };
  // R02-001/002: POST, then the same POST replayed.
  json::object created = load_example(options.ig_dir, "Practitioner-ExamplePractitionerRegul4.json");
  set_identifier(created, fresh_uuid(random));
  const std::string created_body = json::serialize(created);
  HttpReply r1 = transport.send("POST", post_target, created_body);
  if (r1.transport_ok && r1.status == 201 && !r1.header("location").empty())
    run.ran("R02-001");
  else
    run.fail({"R02-001", "R02-001", "",
              "POST /Practitioner (Regul4 example, fresh INTRN): " + describe(r1) +
                  (r1.header("location").empty() ? ", no Location header" : "") + ", expected 201 with a Location"});
  // The account as the server answers it (R4's default return=representation), when it does.
  if (auto answered = r1.transport_ok ? parse(r1.body) : std::nullopt;
      answered && resource_type(*answered) == "Practitioner") {
    run.document("R02-001 answer", *answered);
    for (const auto& c : run.catalogue().checks())
      if (c.flow == "INT_R02" && c.group == "PROFILE") run.ran(c.id);
    json::value declared = *answered;
    auto& declared_meta = declared.as_object()["meta"];
    if (!declared_meta.is_object()) declared_meta = json::object{};
    if (!declared_meta.as_object().contains("profile"))
      declared_meta.as_object()["profile"] =
          json::array{"https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul"};
    run.add(check_profiles(run.catalogue(), profiles, declared, "R02-001 answer"));
  }
  HttpReply r2 = transport.send("POST", post_target, created_body);
  if (refused_with_outcome(r2, 400, 499))
    run.ran("R02-002");
  else
    run.fail(
        {"R02-002", "R02-002", "", "the same POST replayed: " + describe(r2) + ", expected a 4xx OperationOutcome"});
  // R02-003/004/005: conditional PUT that creates, the same again, then active false.
  const std::string national = rpps_with_key("7" + fresh_digits(random, 9));
  const std::string put_target = "/Practitioner?identifier=" + std::string(kIdnps) + "%7C" + national;
  json::object upserted = load_example(options.ig_dir, "Practitioner-ExamplePractitionerRegul2.json");
  set_identifier(upserted, national);
  const std::string upserted_body = json::serialize(upserted);
  HttpReply p1 = transport.send("PUT", put_target, upserted_body);
  if (p1.transport_ok && (p1.status == 201 || p1.status == 200) && !p1.header("location").empty())
    run.ran("R02-003");
  else
    run.fail({"R02-003", "R02-003", "",
              "conditional PUT of a new regulator (Regul2 example, fresh IDNPS): " + describe(p1) +
                  ", expected 201 (or 200) with a Location"});
  HttpReply p2 = transport.send("PUT", put_target, upserted_body);
  // The same account: the Locations name one resource (their versions may differ).
  if (p2.transport_ok && p2.status == 200 && !p2.header("location").empty() &&
      unversioned(p1.header("location")) == unversioned(p2.header("location")))
    run.ran("R02-004");
  else
    run.fail({"R02-004", "R02-004", "",
              "the same conditional PUT again: " + describe(p2) + " with Location \"" + p2.header("location") +
                  "\" after \"" + p1.header("location") +
                  "\", expected 200 with a Location naming the same resource as the first (any version)"});
  json::object withdrawn = load_example(options.ig_dir, "Practitioner-ExamplePractitionerRegul3.json");
  set_identifier(withdrawn, national);
  HttpReply p3 = transport.send("PUT", put_target, json::serialize(withdrawn));
  if (p3.transport_ok && p3.status == 200)
    run.ran("R02-005");
  else
    run.fail({"R02-005", "R02-005", "",
              "conditional PUT with active false (Regul3 example): " + describe(p3) + ", expected 200"});
  // R02-006/007: refusals.
  HttpReply bad = transport.send("POST", post_target, "{\"resourceType\": \"Practitioner\", ");
  if (refused_with_outcome(bad, 400, 400))
    run.ran("R02-006");
  else
    run.fail(
        {"R02-006", "R02-006", "", "POST of truncated JSON: " + describe(bad) + ", expected 400 OperationOutcome"});
  json::object nameless = load_example(options.ig_dir, "Practitioner-ExamplePractitionerRegul4.json");
  set_identifier(nameless, fresh_uuid(random));
  nameless.erase("name");
  HttpReply invalid = transport.send("POST", post_target, json::serialize(nameless));
  if (refused_with_outcome(invalid, 422, 422))
    run.ran("R02-007");
  else
    run.fail({"R02-007", "R02-007", "",
              "POST of a Practitioner without name: " + describe(invalid) + ", expected 422 OperationOutcome"});
}

void run_latency(Run& run, Transport& transport, const ScenarioOptions& options) {
  if (!run.selected("PERF-001") && !run.selected("PERF-002")) return;
  progress(options, "latency: warm-up, then " + std::to_string(options.perf_searches) + " searches");
  const std::string target =
      slot_query(options.practitioners, window_start(options), window_start(options) + options.window);
  for (int i = 0; i < options.perf_warmup; ++i) (void)transport.send("GET", target);
  std::vector<double> server_ms, overhead_ms;
  int failures = 0;
  for (int i = 0; i < options.perf_searches; ++i) {
    const auto t0 = Clock::now();
    HttpReply r = transport.send("GET", target);
    const bool ok = r.transport_ok && r.status == 200 && parse(r.body).has_value();
    const double wall = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!ok) ++failures;
    server_ms.push_back(r.seconds * 1000);
    overhead_ms.push_back(std::max(0.0, wall - r.seconds * 1000));
  }
  const double p50 = percentile(server_ms, 0.50), p95 = percentile(server_ms, 0.95);
  const double max = server_ms.empty() ? 0 : *std::max_element(server_ms.begin(), server_ms.end());
  run.timing("latency.searches", options.perf_searches);
  run.timing("latency.p50_ms", p50);
  run.timing("latency.p95_ms", p95);
  run.timing("latency.max_ms", max);
  run.timing("latency.suite_overhead_p50_ms", percentile(overhead_ms, 0.50));
  if (failures > 0 || max >= 7000)
    run.fail({"PERF-001", "latency", "",
              failures > 0 ? std::to_string(failures) + " of the measured searches failed"
                           : std::string("a search took 7 s or more (see timings)")});
  else
    run.ran("PERF-001");
  if (p95 > options.budget_ms)
    run.fail({"PERF-002", "latency", "",
              "p95 above the advisory budget of " + std::to_string(static_cast<int>(options.budget_ms)) +
                  " ms (see timings)"});
  else
    run.ran("PERF-002");
}

}  // namespace sas::conformance
