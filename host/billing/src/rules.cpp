#include <boost/json.hpp>
#include <fstream>
#include <sas/host/billing/rules.hpp>
#include <sstream>

namespace sas::host::billing {
namespace {

namespace json = boost::json;
using std::chrono::minutes;

// Every accessor takes the key path so an error names exactly what is wrong.
class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw BillingError(origin_ + ": " + path + ": " + what);
  }
  const json::object& object(const json::value& value, const std::string& path) const {
    if (!value.is_object()) fail(path, "expected an object");
    return value.get_object();
  }
  const json::array& array(const json::value& value, const std::string& path) const {
    if (!value.is_array()) fail(path, "expected an array");
    return value.get_array();
  }
  const json::value& member(const json::object& object, const std::string& path, std::string_view key) const {
    const json::value* value = object.if_contains(key);
    if (value == nullptr) fail(join(path, key), "missing");
    return *value;
  }
  std::string string(const json::object& object, const std::string& path, std::string_view key) const {
    const json::value& value = member(object, path, key);
    if (!value.is_string()) fail(join(path, key), "expected a string");
    return std::string(value.get_string());
  }
  std::string optional_string(const json::object& object, const std::string& path, std::string_view key) const {
    if (!object.contains(key)) return {};
    return string(object, path, key);
  }
  int64_t integer(const json::object& object, const std::string& path, std::string_view key) const {
    const json::value& value = member(object, path, key);
    if (value.is_int64()) return value.get_int64();
    if (value.is_uint64() && value.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
      return static_cast<int64_t>(value.get_uint64());
    }
    fail(join(path, key), "expected an integer");
  }
  bool boolean(const json::object& object, const std::string& path, std::string_view key) const {
    const json::value& value = member(object, path, key);
    if (!value.is_bool()) fail(join(path, key), "expected true or false");
    return value.get_bool();
  }
  std::vector<std::string> strings(const json::object& object, const std::string& path, std::string_view key) const {
    std::vector<std::string> out;
    if (!object.contains(key)) return out;
    const std::string here = join(path, key);
    const json::array& items = array(object.at(key), here);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) fail(index(here, i), "expected a string");
      out.emplace_back(items[i].get_string());
    }
    return out;
  }
  // "HH:MM"
  minutes time_of_day(const json::object& object, const std::string& path, std::string_view key) const {
    std::string text = string(object, path, key);
    if (text.size() != 5 || text[2] != ':' || !digits(text.substr(0, 2)) || !digits(text.substr(3, 2))) {
      fail(join(path, key), "expected a time \"HH:MM\", got \"" + text + "\"");
    }
    const int h = std::stoi(text.substr(0, 2));
    const int m = std::stoi(text.substr(3, 2));
    if (h > 24 || m > 59 || (h == 24 && m != 0)) fail(join(path, key), "no such time \"" + text + "\"");
    return minutes(h * 60 + m);
  }
  TimeWindow window(const json::value& value, const std::string& path) const {
    const json::object& o = object(value, path);
    return TimeWindow{time_of_day(o, path, "from"), time_of_day(o, path, "to")};
  }
  std::chrono::year_month_day date(const json::object& object, const std::string& path, std::string_view key) const {
    std::string text = string(object, path, key);
    if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !digits(text.substr(0, 4)) ||
        !digits(text.substr(5, 2)) || !digits(text.substr(8, 2))) {
      fail(join(path, key), "expected a date \"YYYY-MM-DD\", got \"" + text + "\"");
    }
    std::chrono::year_month_day ymd{std::chrono::year(std::stoi(text.substr(0, 4))),
                                    std::chrono::month(static_cast<unsigned>(std::stoi(text.substr(5, 2)))),
                                    std::chrono::day(static_cast<unsigned>(std::stoi(text.substr(8, 2))))};
    if (!ymd.ok()) fail(join(path, key), "no such date \"" + text + "\"");
    return ymd;
  }

  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  static std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

 private:
  static bool digits(const std::string& text) {
    for (char c : text) {
      if (c < '0' || c > '9') return false;
    }
    return !text.empty();
  }
  std::string origin_;
};

std::vector<Holiday> read_holidays(const Reader& r, const json::value& value, const std::string& path) {
  std::vector<Holiday> holidays;
  const json::array& items = r.array(value, path);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string here = Reader::index(path, i);
    const json::object& o = r.object(items[i], here);
    Holiday& holiday = holidays.emplace_back();
    holiday.name = r.string(o, here, "name");
    const bool has_date = o.contains("date");
    const bool has_easter = o.contains("easter_offset");
    if (has_date == has_easter) r.fail(here, "give exactly one of \"date\" (\"MM-DD\") or \"easter_offset\" (days)");
    if (has_date) {
      std::string text = r.string(o, here, "date");
      unsigned month = 0;
      unsigned day = 0;
      if (text.size() != 5 || text[2] != '-' || std::sscanf(text.c_str(), "%2u-%2u", &month, &day) != 2) {
        r.fail(here + ".date", "expected \"MM-DD\", got \"" + text + "\"");
      }
      std::chrono::month_day md{std::chrono::month(month), std::chrono::day(day)};
      if (!md.ok()) r.fail(here + ".date", "no such day \"" + text + "\"");
      holiday.fixed = md;
    } else {
      const int64_t offset = r.integer(o, here, "easter_offset");
      if (offset < -60 || offset > 60) r.fail(here + ".easter_offset", "expected -60 to 60 days");
      holiday.easter_offset = static_cast<int>(offset);
    }
  }
  return holidays;
}

std::chrono::weekday read_weekday(const Reader& r, const json::object& o, const std::string& path) {
  static const char* const kNames[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  const std::string name = r.string(o, path, "day");
  for (unsigned i = 0; i < 7; ++i) {
    if (name == kNames[i]) return std::chrono::weekday(i);
  }
  r.fail(path + ".day", "expected a weekday in English lower case (\"saturday\"), got \"" + name + "\"");
}

Majoration read_majoration(const Reader& r, const json::value& value, const std::string& path) {
  const json::object& o = r.object(value, path);
  Majoration m;
  m.code = r.string(o, path, "code");
  if (m.code.empty()) r.fail(path + ".code", "must not be empty");
  m.parcours_indicator = r.optional_string(o, path, "parcours_indicator");
  m.amount_cents = r.integer(o, path, "amount_cents");
  if (m.amount_cents < 0) r.fail(path + ".amount_cents", "must not be negative");
  const int64_t delay = r.integer(o, path, "max_delay_minutes");
  if (delay <= 0) r.fail(path + ".max_delay_minutes", "must be positive");
  m.max_delay = minutes(delay);
  if (o.contains("max_per_week")) {
    const int64_t cap = r.integer(o, path, "max_per_week");
    if (cap < 0 || cap > 1000) r.fail(path + ".max_per_week", "expected 0 to 1000");
    m.max_per_week = static_cast<int>(cap);
  }
  m.requires_opposable_tariff =
      o.contains("requires_opposable_tariff") && r.boolean(o, path, "requires_opposable_tariff");
  m.excluded_specialties = r.strings(o, path, "excluded_specialties");
  if (o.contains("exclusions")) {
    const std::string here = path + ".exclusions";
    const json::array& items = r.array(o.at("exclusions"), here);
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string item_path = Reader::index(here, i);
      const json::object& e = r.object(items[i], item_path);
      Exclusion& exclusion = m.exclusions.emplace_back();
      exclusion.codes = r.strings(e, item_path, "codes");
      if (exclusion.codes.empty()) r.fail(item_path + ".codes", "give at least one code");
      exclusion.fr = r.string(e, item_path, "fr");
      exclusion.en = r.string(e, item_path, "en");
    }
  }
  m.reference = r.string(o, path, "reference");
  return m;
}

RuleSet read_version(const Reader& r, const json::value& value, const std::string& path) {
  const json::object& o = r.object(value, path);
  RuleSet rules;
  rules.id = r.string(o, path, "id");
  rules.effective_from = r.date(o, path, "effective_from");
  rules.title = r.optional_string(o, path, "title");
  rules.snp = read_majoration(r, r.member(o, path, "snp"), path + ".snp");
  rules.mrt = read_majoration(r, r.member(o, path, "mrt"), path + ".mrt");
  const std::string pdsa_path = path + ".pdsa";
  const json::object& pdsa = r.object(r.member(o, path, "pdsa"), pdsa_path);
  rules.pdsa.nights = r.window(r.member(pdsa, pdsa_path, "nights"), pdsa_path + ".nights");
  rules.pdsa.sundays_and_holidays =
      r.window(r.member(pdsa, pdsa_path, "sundays_and_holidays"), pdsa_path + ".sundays_and_holidays");
  rules.pdsa.reference = r.string(pdsa, pdsa_path, "reference");
  rules.holidays = read_holidays(r, r.member(o, path, "holidays"), path + ".holidays");
  if (o.contains("regions")) {
    const std::string regions_path = path + ".regions";
    for (const auto& [key, region_value] : r.object(o.at("regions"), regions_path)) {
      const std::string here = regions_path + "." + std::string(key);
      const json::object& ro = r.object(region_value, here);
      Region region;
      if (ro.contains("holidays")) region.holidays = read_holidays(r, ro.at("holidays"), here + ".holidays");
      if (ro.contains("pdsa")) {
        const json::array& windows = r.array(ro.at("pdsa"), here + ".pdsa");
        for (std::size_t i = 0; i < windows.size(); ++i) {
          const std::string wpath = Reader::index(here + ".pdsa", i);
          const json::object& w = r.object(windows[i], wpath);
          region.pdsa.push_back(WeekdayWindow{read_weekday(r, w, wpath), r.window(windows[i], wpath)});
        }
      }
      rules.regions.emplace(std::string(key), std::move(region));
    }
  }
  return rules;
}

std::string format_date(std::chrono::year_month_day d) {
  char text[16];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return text;
}

}  // namespace

bool TimeWindow::contains(minutes time_of_day) const {
  if (from < to) return time_of_day >= from && time_of_day < to;
  return time_of_day >= from || time_of_day < to;  // crosses midnight
}

RuleBook RuleBook::parse(std::string_view text, const std::string& origin) {
  Reader r(origin);
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) throw BillingError(origin + ": not valid JSON: " + ec.message());
  const json::object& o = r.object(root, "(root)");
  const std::string format = r.string(o, "", "format");
  if (format != "sas-billing-rules/1") {
    r.fail("format", "expected \"sas-billing-rules/1\", got \"" + format + "\"");
  }
  const json::array& versions = r.array(r.member(o, "", "versions"), "versions");
  if (versions.empty()) r.fail("versions", "give at least one version");
  RuleBook book;
  book.origin_ = origin;
  for (std::size_t i = 0; i < versions.size(); ++i) {
    book.versions_.push_back(read_version(r, versions[i], Reader::index("versions", i)));
  }
  for (std::size_t i = 1; i < book.versions_.size(); ++i) {
    if (!(book.versions_[i - 1].effective_from < book.versions_[i].effective_from)) {
      r.fail(Reader::index("versions", i) + ".effective_from",
             "versions must be in increasing order of effective_from, each on a different date");
    }
  }
  return book;
}

RuleBook RuleBook::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BillingError("rules " + path.string() + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), "rules " + path.string());
}

const RuleSet& RuleBook::in_force(std::chrono::year_month_day date) const {
  const RuleSet* found = nullptr;
  for (const auto& version : versions_) {
    if (version.effective_from <= date) found = &version;
  }
  if (found == nullptr) {
    throw BillingError(origin_ + ": no rule set is in force on " + format_date(date) + " (the first starts on " +
                       format_date(versions_.front().effective_from) + ")");
  }
  return *found;
}

std::filesystem::path default_rules_path(const std::filesystem::path& executable) {
  return executable.parent_path().parent_path() / "share" / "sas" / "billing" / "rules.json";
}

}  // namespace sas::host::billing
