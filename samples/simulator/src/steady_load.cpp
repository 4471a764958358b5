#include "steady_load.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sas/host/fhir/builders.hpp>
#include <sas/host/fhir/constants.hpp>
#include <sas/sdk/datetime.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "figures.hpp"
#include "process_stats.hpp"

namespace sas::sim {

namespace json = boost::json;
namespace fhir = sas::host::fhir;
namespace datetime = sas::sdk::datetime;
using Clock = std::chrono::steady_clock;
using Instant = datetime::Instant;
using std::chrono::milliseconds;

namespace {

enum class Kind { search = 0, account = 1, event = 2 };
constexpr std::array<Kind, 3> kKinds{Kind::search, Kind::account, Kind::event};
const char* name(Kind kind) {
  static constexpr std::array<const char*, 3> kNames{"search", "account", "event"};
  return kNames[static_cast<size_t>(kind)];
}

// The appointments' technical ids: a system of the simulator's own, a value unique to the run.
constexpr const char* kAppointmentSystem = "https://sas-sim.example/soak/appointment-id";
// How many regulator accounts and open appointments the load keeps in play: past these, it
// updates what it has rather than creating more, so that the host works on a steady state.
constexpr size_t kMaxAccounts = 1000;
constexpr size_t kMaxOpenAppointments = 500;

Instant now_instant() { return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now()); }

std::string hex(uint64_t value, int digits) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%0*llx", digits, static_cast<unsigned long long>(value));
  return std::string(buffer).substr(0, static_cast<size_t>(digits));
}

// A random (version 4) UUID in lower case, as the platform's INTRN ids are.
std::string uuid(std::mt19937_64& random) {
  const uint64_t high = (random() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t low = (random() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  const std::string h = hex(high, 16), l = hex(low, 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + l.substr(0, 4) + "-" + l.substr(4);
}

// One request's fate: an empty `error` is a success.
struct Outcome {
  std::string error;  // "transport", "http_503", "invalid", "overload", ...
  std::string detail;
};

Outcome transport_or_status(const HttpResult& result, std::initializer_list<long> expected) {
  if (!result.transport_ok) return {"transport", result.error};
  for (long status : expected) {
    if (result.status == status) return {};
  }
  return {"http_" + std::to_string(result.status), result.body.substr(0, 300)};
}

const json::value* field(const json::value* value, std::string_view key) {
  if (value == nullptr || !value->is_object()) return nullptr;
  return value->get_object().if_contains(key);
}

std::string text(const json::value* value) {
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

json::value parse_object(const std::string& body) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  return ec || !value.is_object() ? json::value() : value;
}

// ---- INT_R01 searches --------------------------------------------------------------------------

// What the platform relies on in an answer: a searchset Bundle whose total counts its Slots, free
// Slots starting inside the window, and Practitioners among those asked for.
Outcome check_search_answer(const HttpResult& result, const std::set<std::string>& ids, Instant from, Instant to) {
  if (Outcome o = transport_or_status(result, {200}); !o.error.empty()) return o;
  const json::value bundle = parse_object(result.body);
  auto invalid = [](std::string why) { return Outcome{"invalid", std::move(why)}; };
  if (text(field(&bundle, "resourceType")) != "Bundle" || text(field(&bundle, "type")) != "searchset") {
    return invalid("not a searchset Bundle: " + result.body.substr(0, 200));
  }
  const json::value* entries = field(&bundle, "entry");
  int64_t slots = 0;
  if (entries != nullptr && entries->is_array()) {
    for (const auto& entry : entries->get_array()) {
      const json::value* resource = field(&entry, "resource");
      const std::string type = text(field(resource, "resourceType"));
      if (type == "Slot") {
        ++slots;
        const std::string start = text(field(resource, "start"));
        const auto at = datetime::parse_fhir(start);
        if (!at || *at < from || *at > to) return invalid("Slot start " + start + " outside the window");
        if (text(field(resource, "status")) != "free") return invalid("a Slot that is not free");
      } else if (type == "Practitioner") {
        const json::value* identifiers = field(resource, "identifier");
        const json::value* first =
            identifiers != nullptr && identifiers->is_array() && !identifiers->get_array().empty()
                ? &identifiers->get_array()[0]
                : nullptr;
        const std::string id = text(field(first, "value"));
        if (ids.count(id) == 0) return invalid("Practitioner " + id + " was not asked for");
      }
    }
  }
  const json::value* total = field(&bundle, "total");
  if (total == nullptr || !total->is_int64() || total->get_int64() != slots) {
    return invalid("total is not the number of Slots (" + std::to_string(slots) + ")");
  }
  return {};
}

// ---- INT_R02 regulator accounts ----------------------------------------------------------------

struct Account {
  std::string sas_id;       // INTRN
  std::string national_id;  // IDNPS, prefixed RPPS
  std::string given;
  std::string email;
  bool active = true;
  int version = 0;
  bool busy = false;     // a write is in flight: the next waits, so the expected answer is known
  bool retired = false;  // a write failed: its state is unknown, it is not used again
};

json::object practitioner_regul(const Account& a) {
  json::array identifiers{
      fhir::practitioner_national_identifier(a.national_id),
      fhir::identifier(fhir::kIdentifierTypeSystem, fhir::code::kIntrn, fhir::kSasPlatformSystem, a.sas_id)};
  return json::object{
      {"resourceType", "Practitioner"},
      {"meta", json::object{{"source", fhir::kSasPlatformSystem},
                            {"profile", json::array{json::string(fhir::profile::kPractitionerRegul)}}}},
      {"identifier", std::move(identifiers)},
      {"active", a.active},
      {"name", json::array{json::object{{"family", "SOAK"}, {"given", json::array{json::string(a.given)}}}}},
      {"telecom", json::array{json::object{{"system", "email"}, {"value", a.email}}}}};
}

// The accounts the load created, and the next write: a creation (POST, or a conditional PUT that
// creates) or an update of an account no other write is touching (new name or e-mail, or a
// deactivation or reactivation, addressed by its SAS id).
class Accounts {
 public:
  explicit Accounts(std::string run) : run_(std::move(run)) {}

  struct Write {
    size_t index = 0;
    std::string method, target;  // target relative to the base
    long expected = 0;
    Account state;  // after the write
  };

  Write next(std::mt19937_64& random) {
    std::lock_guard lock(mutex_);
    Write w;
    const bool update = (list_.size() >= kMaxAccounts || random() % 100 >= 30) && pick(random, w.index);
    if (!update) {
      Account a;
      a.sas_id = uuid(random);
      a.national_id = "8" + std::to_string(10000000000ULL + random() % 90000000000ULL);
      a.given = "R" + run_ + std::to_string(list_.size());
      a.email = "regulateur." + std::to_string(list_.size()) + "." + run_ + "@soak.example.fr";
      a.busy = true;
      w.index = list_.size();
      list_.push_back(a);
      w.state = a;
      w.expected = 201;
      if (random() % 2 == 0) {
        w.method = "POST";
        w.target = "/Practitioner";
      } else {
        w.method = "PUT";
        w.target = by_sas_id(a);
      }
      return w;
    }
    Account& a = list_[w.index];
    a.busy = true;
    w.state = a;
    ++w.state.version;
    if (random() % 100 < 20) {
      w.state.active = !a.active;
    } else {
      w.state.email = "regulateur." + std::to_string(w.index) + "." + run_ + ".v" + std::to_string(w.state.version) +
                      "@soak.example.fr";
    }
    w.method = "PUT";
    w.target = by_sas_id(a);
    w.expected = 200;
    return w;
  }

  void done(const Write& w, bool ok) {
    std::lock_guard lock(mutex_);
    Account& a = list_[w.index];
    if (ok) a = w.state;
    a.busy = false;
    a.retired = !ok;
  }

  // A regulator for an appointment event: a created account's SAS id, or the IG's example.
  std::pair<std::string, std::string> regulator(std::mt19937_64& random) {
    std::lock_guard lock(mutex_);
    if (!list_.empty()) {
      const Account& a = list_[random() % list_.size()];
      if (!a.retired && (a.version > 0 || !a.busy)) return {"INTRN", a.sas_id};
    }
    return {"IDNPS", "810002673899"};
  }

 private:
  static std::string by_sas_id(const Account& a) {
    return "/Practitioner?identifier=" + std::string(fhir::kSasPlatformSystem) + "|" + a.sas_id;
  }

  // Under mutex_: an account that exists and that no write is touching.
  bool pick(std::mt19937_64& random, size_t& index) {
    for (int attempt = 0; attempt < 8 && !list_.empty(); ++attempt) {
      index = random() % list_.size();
      const Account& a = list_[index];
      if (!a.busy && !a.retired) return true;
    }
    return false;
  }

  std::string run_;
  std::mutex mutex_;
  std::vector<Account> list_;
};

Outcome check_account_answer(const HttpResult& result, const Accounts::Write& w) {
  if (Outcome o = transport_or_status(result, {w.expected}); !o.error.empty()) return o;
  const json::value resource = parse_object(result.body);
  if (text(field(&resource, "resourceType")) != "Practitioner") {
    return {"invalid", "not a Practitioner: " + result.body.substr(0, 200)};
  }
  const json::value* active = field(&resource, "active");
  if (active == nullptr || !active->is_bool() || active->get_bool() != w.state.active) {
    return {"invalid", "active is not what was written"};
  }
  bool found = false;
  if (const json::value* ids = field(&resource, "identifier"); ids != nullptr && ids->is_array()) {
    for (const auto& id : ids->get_array()) found = found || text(field(&id, "value")) == w.state.sas_id;
  }
  if (!found) return {"invalid", "the account's SAS id " + w.state.sas_id + " is not in the answer"};
  return {};
}

// ---- Appointment events and their INT_R03 notifications ----------------------------------------

// What identifies one notification at the platform: the appointment, its status and its start
// (a reschedule always moves the start later, so no two events of an appointment share a key).
std::string notification_key(const std::string& value, const std::string& status, Instant start) {
  return value + "|" + status + "|" + std::to_string(start.time_since_epoch().count());
}

struct Appointment {
  std::string value;
  int sequence = 0;  // of the last event the host took
  Instant start{};
  Instant created{};
  std::string practitioner;
  std::pair<std::string, std::string> regulator;
  bool busy = false;
};

// The open appointments and the next event: a booking, or a later event of an appointment whose
// previous event the host has taken (so the sequence it answers is known).
class Appointments {
 public:
  Appointments(std::string run, const std::vector<std::string>& practitioners, Accounts& accounts)
      : run_(std::move(run)), practitioners_(practitioners), accounts_(accounts) {}

  struct Step {
    uint64_t number = 0;
    std::string event, status;
    Appointment state;  // after the event
    bool closes = false;
    json::object body;
    std::string key;
  };

  Step next(std::mt19937_64& random) {
    Step s;
    std::lock_guard lock(mutex_);
    auto it = open_.end();
    if (open_.size() >= 20 && (open_.size() >= kMaxOpenAppointments || random() % 100 >= 35)) {
      for (int attempt = 0; attempt < 8 && it == open_.end(); ++attempt) {
        it = std::next(open_.begin(), static_cast<long>(random() % open_.size()));
        if (it->second.busy) it = open_.end();
      }
    }
    if (it == open_.end()) {
      s.number = next_number_++;
      const Instant now = now_instant();
      s.state.value = run_ + "-" + std::to_string(s.number);
      s.state.created = std::chrono::floor<std::chrono::minutes>(now);
      s.state.start = std::chrono::ceil<std::chrono::hours>(now) + std::chrono::minutes(15 * (4 + random() % 600));
      s.state.practitioner = practitioners_[random() % practitioners_.size()];
      s.state.regulator = accounts_.regulator(random);  // lock order: appointments, then accounts
      s.event = "booked";
      open_[s.number].busy = true;
    } else {
      it->second.busy = true;
      s.number = it->first;
      s.state = it->second;
      const auto draw = random() % 100;
      s.event = draw < 30 ? "rescheduled" : draw < 55 ? "cancelled" : draw < 85 ? "fulfilled" : "noshow";
      if (s.event == "rescheduled") s.state.start += std::chrono::minutes(15 * (1 + random() % 96));
      s.closes = s.event != "rescheduled";
    }
    ++s.state.sequence;
    s.status = s.event == "booked" || s.event == "rescheduled" ? "booked" : s.event;
    s.body = json::object{
        {"event", s.event},
        {"appointment", json::object{{"system", kAppointmentSystem}, {"value", s.state.value}}},
        {"regulator", json::object{{"type", s.state.regulator.first}, {"value", s.state.regulator.second}}},
        {"practitioner", s.state.practitioner},
        {"start", datetime::format_paris(s.state.start, false)},
        {"end", datetime::format_paris(s.state.start + std::chrono::minutes(15), false)},
        {"created", datetime::format_paris(s.state.created, false)}};
    s.key = notification_key(s.state.value, s.status, s.state.start);
    return s;
  }

  void done(const Step& s, bool ok) {
    std::lock_guard lock(mutex_);
    if (!ok || s.closes) {  // failed: the host's sequence is unknown, leave the appointment alone
      open_.erase(s.number);
      return;
    }
    open_[s.number] = s.state;
    open_[s.number].busy = false;
  }

 private:
  std::string run_;
  const std::vector<std::string>& practitioners_;
  Accounts& accounts_;
  std::mutex mutex_;
  std::map<uint64_t, Appointment> open_;
  uint64_t next_number_ = 1;
};

Outcome check_event_answer(const HttpResult& result, const Appointments::Step& s) {
  if (Outcome o = transport_or_status(result, {201}); !o.error.empty()) return o;
  const json::value answer = parse_object(result.body);
  const json::value* sequence = field(&answer, "sequence");
  if (field(&answer, "outbox_id") == nullptr || sequence == nullptr || !sequence->is_int64()) {
    return {"invalid", "not {outbox_id, sequence}: " + result.body.substr(0, 200)};
  }
  if (sequence->get_int64() != s.state.sequence) {
    return {"invalid", "appointment " + s.state.value + ": sequence " + std::to_string(sequence->get_int64()) +
                           ", expected " + std::to_string(s.state.sequence)};
  }
  return {};
}

// The events the host took, matched against what `sas-sim serve` recorded (its --db), read as it
// grows: a notification is delivered when the platform accepted (200/201) a resource with its key.
class Notifications {
 public:
  Notifications(const std::string& platform_db, const std::string& run) : prefix_(run + "-") {
    if (sqlite3_open_v2(platform_db.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      const std::string error = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("--platform-db " + platform_db + ": " + error);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  Notifications(const Notifications&) = delete;
  Notifications& operator=(const Notifications&) = delete;
  ~Notifications() { sqlite3_close(db_); }

  void reported(const std::string& key) {
    std::lock_guard lock(mutex_);
    const Instant now = now_instant();
    reported_[key] = now;
    if (auto it = arrived_.find(key); it != arrived_.end()) delivered(now, it->second);
  }

  // Reads what the platform recorded since the last call. Throws on a database error.
  void poll() {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT n, received_at, http_status, body FROM received WHERE n > ? ORDER BY n", -1, &s,
                           nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("--platform-db: ") + sqlite3_errmsg(db_));
    }
    sqlite3_bind_int64(s, 1, last_row_);
    auto column = [s](int c) {
      const unsigned char* t = sqlite3_column_text(s, c);
      return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
    };
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      const int64_t n = sqlite3_column_int64(s, 0);
      const auto received_at = datetime::parse_fhir(column(1)).value_or(now_instant());
      const int http = sqlite3_column_int(s, 2);
      // The request's own body: a refused one has no identifier in the platform's columns.
      const json::value resource = parse_object(column(3));
      const json::value* ids = field(&resource, "identifier");
      const json::value* first =
          ids != nullptr && ids->is_array() && !ids->get_array().empty() ? &ids->get_array()[0] : nullptr;
      const std::string value = text(field(first, "value"));
      std::lock_guard lock(mutex_);
      last_row_ = n;
      if (text(field(first, "system")) != kAppointmentSystem || value.rfind(prefix_, 0) != 0) {
        continue;  // another run's, or not an appointment of this load
      }
      if (http != 200 && http != 201) {
        ++refused_;
        if (refused_example_.empty())
          refused_example_ = "the platform answered " + std::to_string(http) + " for " + value;
        continue;
      }
      const auto start = datetime::parse_fhir(text(field(&resource, "start")));
      if (!start) continue;
      const std::string key = notification_key(value, text(field(&resource, "status")), *start);
      if (!arrived_.emplace(key, received_at).second) continue;  // a retry the platform answered again
      if (auto it = reported_.find(key); it != reported_.end()) delivered(it->second, received_at);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("--platform-db: ") + sqlite3_errmsg(db_));
  }

  struct Counts {
    uint64_t reported = 0, delivered = 0, refused = 0;
  };
  Counts counts() {
    std::lock_guard lock(mutex_);
    return {reported_.size(), delays_ms_.size(), refused_};
  }
  std::vector<double> delays_ms() {
    std::lock_guard lock(mutex_);
    return delays_ms_;
  }
  std::string refused_example() {
    std::lock_guard lock(mutex_);
    return refused_example_;
  }

 private:
  // Under mutex_. The delay runs from the host's answer to the report (the event is on disk) to
  // the platform's record of it; 0 when the notification was faster than the answer.
  void delivered(Instant reported_at, Instant received_at) {
    delays_ms_.push_back(static_cast<double>(std::max<int64_t>(0, (received_at - reported_at).count())));
  }

  std::string prefix_;  // of this run's appointment ids
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
  int64_t last_row_ = 0;
  std::map<std::string, Instant> reported_;
  std::map<std::string, Instant> arrived_;
  std::vector<double> delays_ms_;
  uint64_t refused_ = 0;
  std::string refused_example_;
};

// ---- Figures -----------------------------------------------------------------------------------

json::object latency_json(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  auto round3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  return json::object{{"count", values.size()},
                      {"p50", round3(percentile(values, 50))},
                      {"p90", round3(percentile(values, 90))},
                      {"p99", round3(percentile(values, 99))},
                      {"max", round3(values.empty() ? 0 : values.back())},
                      {"mean", round3(values.empty() ? 0 : sum / static_cast<double>(values.size()))}};
}

struct Interval {
  std::array<uint64_t, 3> requests{};
  uint64_t errors = 0;
  std::vector<double> latencies_ms;
};

class Stats {
 public:
  void record(Kind kind, double latency_ms, const Outcome& outcome) {
    std::lock_guard lock(mutex_);
    const auto k = static_cast<size_t>(kind);
    ++requests_[k];
    latencies_ms_[k].push_back(latency_ms);
    ++interval_.requests[k];
    interval_.latencies_ms.push_back(latency_ms);
    if (!outcome.error.empty()) {
      ++interval_.errors;
      error(std::string(name(kind)) + ":" + outcome.error, outcome.detail);
    }
  }

  // Errors of the whole run that no request carries: lost notifications, the host gone, ...
  void error(const std::string& kind, const std::string& detail, uint64_t count = 1) {
    std::lock_guard lock(error_mutex_);
    errors_[kind] += count;
    if (examples_.size() < 20) examples_.push_back(kind + ": " + detail);
  }

  Interval take_interval() {
    std::lock_guard lock(mutex_);
    return std::exchange(interval_, Interval{});
  }

  uint64_t requests(Kind kind) {
    std::lock_guard lock(mutex_);
    return requests_[static_cast<size_t>(kind)];
  }
  std::vector<double> latencies(std::optional<Kind> kind) {
    std::lock_guard lock(mutex_);
    if (kind) return latencies_ms_[static_cast<size_t>(*kind)];
    std::vector<double> all;
    for (const auto& l : latencies_ms_) all.insert(all.end(), l.begin(), l.end());
    return all;
  }
  std::map<std::string, uint64_t> errors() {
    std::lock_guard lock(error_mutex_);
    return errors_;
  }
  std::vector<std::string> examples() {
    std::lock_guard lock(error_mutex_);
    return examples_;
  }

 private:
  std::mutex mutex_;
  std::array<uint64_t, 3> requests_{};
  std::array<std::vector<double>, 3> latencies_ms_;
  Interval interval_;
  std::mutex error_mutex_;
  std::map<std::string, uint64_t> errors_;
  std::vector<std::string> examples_;
};

struct Sample {
  double t_s = 0;
  std::optional<ProcessStats> host;
  double cpu_percent = 0;  // of one core, over the interval
  Interval interval;
  Notifications::Counts notifications;
};

json::object sample_json(const Sample& s) {
  json::object o{{"t_s", std::round(s.t_s * 10.0) / 10.0}};
  if (s.host) {
    o["rss_kib"] = s.host->rss_kib;
    o["rss_anon_kib"] = s.host->rss_anon_kib;
    o["rss_file_kib"] = s.host->rss_file_kib;
    o["threads"] = s.host->threads;
    o["cpu_s"] = std::round(s.host->cpu_seconds * 100.0) / 100.0;
    o["cpu_pct"] = std::round(s.cpu_percent * 10.0) / 10.0;
  }
  json::object requests;
  for (Kind k : kKinds) requests[name(k)] = s.interval.requests[static_cast<size_t>(k)];
  o["requests"] = std::move(requests);
  o["errors"] = s.interval.errors;
  json::object latency = latency_json(s.interval.latencies_ms);
  latency.erase("count");
  o["latency_ms"] = std::move(latency);
  o["notifications_reported"] = s.notifications.reported;
  o["notifications_delivered"] = s.notifications.delivered;
  return o;
}

void print_header(bool host) {
  std::printf("%8s %9s %9s %6s %7s %7s %6s %6s %8s %8s %9s %9s\n", "t(s)", host ? "rss(MiB)" : "-",
              host ? "anon(MiB)" : "-", host ? "cpu%" : "-", "search", "account", "event", "errors", "p50(ms)",
              "p99(ms)", "reported", "delivered");
  std::fflush(stdout);
}

void print_row(const Sample& s) {
  auto sorted = s.interval.latencies_ms;
  std::sort(sorted.begin(), sorted.end());
  const auto mib = [](int64_t kib) { return fixed(static_cast<double>(kib) / 1024.0, 1); };
  std::printf("%8s %9s %9s %6s %7llu %7llu %6llu %6llu %8s %8s %9llu %9llu\n", fixed(s.t_s, 0).c_str(),
              s.host ? mib(s.host->rss_kib).c_str() : "-", s.host ? mib(s.host->rss_anon_kib).c_str() : "-",
              s.host ? fixed(s.cpu_percent, 1).c_str() : "-", static_cast<unsigned long long>(s.interval.requests[0]),
              static_cast<unsigned long long>(s.interval.requests[1]),
              static_cast<unsigned long long>(s.interval.requests[2]),
              static_cast<unsigned long long>(s.interval.errors), fixed(percentile(sorted, 50), 1).c_str(),
              fixed(percentile(sorted, 99), 1).c_str(), static_cast<unsigned long long>(s.notifications.reported),
              static_cast<unsigned long long>(s.notifications.delivered));
  std::fflush(stdout);
}

// ---- The open loop -----------------------------------------------------------------------------

struct Job {
  Kind kind;
  Clock::time_point scheduled;
};

class JobQueue {
 public:
  void push(Job job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(job);
    }
    ready_.notify_one();
  }
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }
  std::optional<Job> pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return closed_ || !jobs_.empty(); });
    if (jobs_.empty()) return std::nullopt;
    Job job = jobs_.front();
    jobs_.pop_front();
    return job;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  bool closed_ = false;
};

struct World {
  const SteadyLoadOptions& options;
  Accounts& accounts;
  Appointments& appointments;
  Notifications* notifications;
  Stats& stats;
};

struct Worker {
  PlatformClient platform;
  std::optional<PlatformClient> admin;
  std::mt19937_64 random;
};

Outcome search(World& w, Worker& worker) {
  const auto& o = w.options;
  const size_t count = 1 + worker.random() % static_cast<size_t>(o.max_ids_per_search);
  std::vector<std::string> chosen;
  std::sample(o.practitioner_ids.begin(), o.practitioner_ids.end(), std::back_inserter(chosen), count, worker.random);
  std::shuffle(chosen.begin(), chosen.end(), worker.random);
  // Half the searches start now, as an orientation does; the others later in the day.
  const Instant now = now_instant();
  const Instant from = worker.random() % 2 == 0 ? now
                                                : std::chrono::floor<std::chrono::minutes>(now) +
                                                      std::chrono::minutes(worker.random() % 1440);
  const auto max_minutes = static_cast<uint64_t>(std::max(1.0, o.max_window_hours * 60.0));
  const Instant to = from + std::chrono::minutes(std::min<uint64_t>(max_minutes, 60 + worker.random() % max_minutes));
  const HttpResult result =
      worker.platform.get(slot_search_url(o.base, chosen, datetime::format_paris(from), datetime::format_paris(to)));
  return check_search_answer(result, std::set<std::string>(chosen.begin(), chosen.end()), from, to);
}

Outcome write_account(World& w, Worker& worker) {
  const Accounts::Write write = w.accounts.next(worker.random);
  std::string base = w.options.base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const HttpResult result =
      worker.platform.send(write.method, base + write.target, json::serialize(practitioner_regul(write.state)),
                           {"Content-Type: application/fhir+json"});
  Outcome outcome = check_account_answer(result, write);
  w.accounts.done(write, outcome.error.empty());
  if (!outcome.error.empty()) outcome.detail = write.method + " " + write.target + ": " + outcome.detail;
  return outcome;
}

Outcome report_event(World& w, Worker& worker) {
  const Appointments::Step step = w.appointments.next(worker.random);
  const HttpResult result = worker.admin->send(
      "POST", w.options.admin_base + "/admin/v1/appointment-events", json::serialize(step.body),
      {"Content-Type: application/json", "Accept: application/json", "Authorization: Bearer " + w.options.admin_token});
  Outcome outcome = check_event_answer(result, step);
  if (outcome.error.empty()) w.notifications->reported(step.key);
  w.appointments.done(step, outcome.error.empty());
  if (!outcome.error.empty()) outcome.detail = step.event + " " + step.state.value + ": " + outcome.detail;
  return outcome;
}

void work(World& w, Worker& worker, JobQueue& queue) {
  while (auto job = queue.pop()) {
    Outcome outcome;
    // Open loop: a request that waited longer than the platform's budget for a free connection
    // would have been given up by the platform: the host did not keep up.
    if (Clock::now() - job->scheduled > kPlatformTimeout) {
      outcome = {"overload", "not sent: waited more than 7 s for a free connection"};
    } else {
      switch (job->kind) {
        case Kind::search:
          outcome = search(w, worker);
          break;
        case Kind::account:
          outcome = write_account(w, worker);
          break;
        case Kind::event:
          outcome = report_event(w, worker);
          break;
      }
    }
    // From the time the request was due: a request that waited for a connection counts its wait.
    const double latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - job->scheduled).count();
    w.stats.record(job->kind, latency_ms, outcome);
  }
}

}  // namespace

LoadMix parse_mix(const std::string& text) {
  LoadMix mix{0, 0, 0};
  std::stringstream items(text);
  int total = 0;
  for (std::string item; std::getline(items, item, ',');) {
    const auto equals = item.find('=');
    const std::string kind = item.substr(0, equals);
    int percent = -1;
    try {
      if (equals != std::string::npos) percent = std::stoi(item.substr(equals + 1));
    } catch (const std::exception&) {
    }
    if (percent < 0 || percent > 100) throw std::invalid_argument("'" + item + "': expected KIND=PERCENT, 0 to 100");
    if (kind == "search") {
      mix.search = percent;
    } else if (kind == "account") {
      mix.account = percent;
    } else if (kind == "event") {
      mix.event = percent;
    } else {
      throw std::invalid_argument("'" + kind + "': the kinds are search, account and event");
    }
    total += percent;
  }
  if (total != 100) throw std::invalid_argument("the percentages add up to " + std::to_string(total) + ", not 100");
  return mix;
}

int run_steady_load(const SteadyLoadOptions& o) {
  // A tag of this run in every id it creates, so that runs against the same host never meet.
  const std::string run = hex(std::random_device{}(), 8);
  Accounts accounts(run);
  Appointments appointments(run, o.practitioner_ids, accounts);
  std::unique_ptr<Notifications> notifications;
  if (o.mix.event > 0) notifications = std::make_unique<Notifications>(o.platform_db, run);
  Stats stats;
  World world{o, accounts, appointments, notifications.get(), stats};

  std::vector<std::unique_ptr<Worker>> workers;  // built here: curl_global_init before any thread
  for (int i = 0; i < o.concurrency; ++i) {
    auto worker = std::unique_ptr<Worker>(new Worker{PlatformClient(o.tls), std::nullopt,
                                                     std::mt19937_64(o.seed * 1000003ULL + static_cast<uint64_t>(i))});
    if (o.mix.event > 0) worker->admin.emplace(ClientTls{"", "", o.admin_ca});
    workers.push_back(std::move(worker));
  }

  std::cout << "sas-sim load: " << fixed(o.rate, 1) << " requests/s for " << fixed(o.duration_s, 0) << " s, mix search "
            << o.mix.search << " % account " << o.mix.account << " % event " << o.mix.event << " %, " << o.concurrency
            << " connection(s) per endpoint, run " << run;
  if (o.host_pid > 0) std::cout << ", host pid " << o.host_pid;
  std::cout << "\n";
  print_header(o.host_pid > 0);

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  std::vector<Sample> samples;
  std::mutex sample_mutex;  // samples and the last CPU reading
  double last_cpu = 0;
  double last_t = 0;
  auto take_sample = [&] {
    Sample s;
    s.t_s = std::chrono::duration<double>(Clock::now() - start).count();
    if (o.host_pid > 0) {
      std::string why;
      s.host = read_process_stats(o.host_pid, &why);
      if (!s.host) stats.error("host:gone", why);
    }
    if (notifications) {
      try {
        notifications->poll();
      } catch (const std::exception& e) {
        stats.error("notification:unreadable", e.what());
      }
      s.notifications = notifications->counts();
    }
    s.interval = stats.take_interval();
    std::lock_guard lock(sample_mutex);
    if (s.host) {
      if (!samples.empty() && s.t_s > last_t)
        s.cpu_percent = 100.0 * (s.host->cpu_seconds - last_cpu) / (s.t_s - last_t);
      last_cpu = s.host->cpu_seconds;
    }
    last_t = s.t_s;
    print_row(s);
    samples.push_back(std::move(s));
  };
  take_sample();  // t = 0: the host before the load

  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::thread sampler([&] {
    const auto interval =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.sample_interval_s));
    for (int k = 1;; ++k) {
      std::unique_lock lock(stop_mutex);
      if (stop_cv.wait_until(lock, start + k * interval, [&] { return stopping; })) return;
      const bool before_end = start + k * interval < end;
      lock.unlock();
      if (before_end) take_sample();  // the end's sample is taken once the load has finished
    }
  });

  JobQueue queue;
  {
    std::vector<std::jthread> threads;
    for (auto& worker : workers) threads.emplace_back([&world, &worker, &queue] { work(world, *worker, queue); });
    // Open loop, paced: request i is due at start + i / rate, whatever the answers' speed.
    std::mt19937_64 draws(o.seed);
    const auto period = std::chrono::duration<double>(1.0 / o.rate);
    for (uint64_t i = 0;; ++i) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
      if (due >= end) break;
      std::this_thread::sleep_until(due);
      const auto draw = static_cast<int>(draws() % 100);
      const Kind kind = draw < o.mix.search                   ? Kind::search
                        : draw < o.mix.search + o.mix.account ? Kind::account
                                                              : Kind::event;
      queue.push({kind, due});
    }
    queue.close();
  }  // the workers finish what was due, and are joined
  {
    std::lock_guard lock(stop_mutex);
    stopping = true;
  }
  stop_cv.notify_all();
  sampler.join();
  take_sample();  // the end of the load: the memory verdict's last point
  const double load_s = samples.back().t_s;

  // The notifications still on their way get --notification-drain-s to arrive.
  Notifications::Counts counts;
  std::vector<double> delays;
  if (notifications) {
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(o.notification_drain_s));
    for (;;) {
      try {
        notifications->poll();
      } catch (const std::exception& e) {
        stats.error("notification:unreadable", e.what());
        break;
      }
      counts = notifications->counts();
      if (counts.delivered >= counts.reported || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(milliseconds(200));
    }
    if (counts.delivered < counts.reported) {
      stats.error("notification:lost",
                  std::to_string(counts.reported - counts.delivered) + " reported event(s) not at the platform " +
                      fixed(o.notification_drain_s, 0) + " s after the load",
                  counts.reported - counts.delivered);
    }
    if (counts.refused > 0) stats.error("notification:refused", notifications->refused_example(), counts.refused);
    delays = notifications->delays_ms();
  }

  // The verdict.
  std::vector<std::string> failures;
  const auto errors = stats.errors();
  uint64_t error_count = 0;
  for (const auto& [kind, count] : errors) error_count += count;
  if (error_count > 0) failures.push_back(std::to_string(error_count) + " error(s)");
  json::object rss;
  if (o.host_pid > 0) {
    const Sample* baseline = nullptr;
    for (const auto& s : samples) {
      if (baseline == nullptr && s.host && s.t_s + 0.5 >= o.settle_s) baseline = &s;
    }
    const Sample& last = samples.back();
    if (baseline == nullptr || !last.host || baseline == &last) {
      failures.push_back("RSS not judged: no sample between --settle-s and the end of the load");
    } else {
      // One measure's growth from the settled samples to the last ones: the median of the first
      // `window` samples against the median of the last `window`. One sample holds whatever was
      // in flight at that instant (answers being built, freed memory not yet given back), which
      // varies by 10 % on a 12 MiB heap; a leak moves every sample, and so both medians.
      std::vector<const Sample*> judged;
      for (const Sample* s = baseline; s <= &last; ++s) {
        if (s->host) judged.push_back(s);
      }
      const std::size_t window = std::clamp<std::size_t>(judged.size() / 3, 1, 5);
      auto growth = [&](int64_t ProcessStats::*measure) {
        auto median = [&](std::size_t first) {
          std::vector<int64_t> values;
          for (std::size_t i = first; i < first + window; ++i) values.push_back((*judged[i]->host).*measure);
          std::sort(values.begin(), values.end());
          return values[(window - 1) / 2];
        };
        int64_t peak = 0;
        for (const Sample* s : judged) peak = std::max(peak, (*s->host).*measure);
        const int64_t from_kib = median(0);
        const int64_t to_kib = median(judged.size() - window);
        const auto from = static_cast<double>(from_kib);
        const auto percent = [from](int64_t kib) {
          return from > 0 ? std::round(10000.0 * (static_cast<double>(kib) - from) / from) / 100.0 : 0.0;
        };
        return json::object{
            {"baseline_kib", from_kib}, {"final_kib", to_kib},           {"last_sample_kib", (*last.host).*measure},
            {"peak_kib", peak},         {"growth_pct", percent(to_kib)}, {"peak_growth_pct", percent(peak)}};
      };
      rss = json::object{{"settle_s", o.settle_s},
                         {"baseline_t_s", std::round(baseline->t_s * 10.0) / 10.0},
                         {"window_samples", static_cast<int64_t>(window)},
                         {"judged", o.rss_measure},
                         {"max_growth_pct", o.max_rss_growth_pct},
                         {"vmrss", growth(&ProcessStats::rss_kib)},
                         {"anon", growth(&ProcessStats::rss_anon_kib)}};
      const double growth_pct = rss.at(o.rss_measure).at("growth_pct").to_number<double>();
      if (growth_pct > o.max_rss_growth_pct) {
        failures.push_back(std::string(o.rss_measure == "anon" ? "anonymous RSS" : "RSS") + " grew " +
                           fixed(growth_pct, 2) + " % from t=" + fixed(baseline->t_s, 0) +
                           " s to the end, over the bound of " + fixed(o.max_rss_growth_pct, 2) + " %");
      }
    }
  }

  json::object requests, latency;
  uint64_t request_count = 0;
  for (Kind k : kKinds) {
    requests[name(k)] = stats.requests(k);
    request_count += stats.requests(k);
    latency[name(k)] = latency_json(stats.latencies(k));
  }
  latency["all"] = latency_json(stats.latencies(std::nullopt));
  json::object error_kinds;
  for (const auto& [kind, count] : errors) error_kinds[kind] = count;
  json::array examples;
  for (const auto& e : stats.examples()) examples.emplace_back(e);
  json::array sample_list;
  for (const auto& s : samples) sample_list.push_back(sample_json(s));
  json::array failure_list;
  for (const auto& f : failures) failure_list.emplace_back(f);
  json::object report{
      {"started_at",
       datetime::format_paris(now_instant() - std::chrono::duration_cast<milliseconds>(Clock::now() - start), false)},
      {"run", run},
      {"rate_per_s", o.rate},
      {"duration_s", o.duration_s},
      {"load_s", std::round(load_s * 10.0) / 10.0},
      {"concurrency", o.concurrency},
      {"mix", json::object{{"search", o.mix.search}, {"account", o.mix.account}, {"event", o.mix.event}}},
      {"search", json::object{{"max_ids", o.max_ids_per_search}, {"max_window_hours", o.max_window_hours}}},
      {"requests", requests},
      {"requests_total", request_count},
      {"achieved_rate_per_s",
       load_s > 0 ? std::round(static_cast<double>(request_count) / load_s * 100.0) / 100.0 : 0.0},
      {"errors", json::object{{"total", error_count}, {"by_kind", error_kinds}, {"examples", examples}}},
      {"latency_ms", latency},
      {"samples", sample_list},
      {"verdict", json::object{{"passed", failures.empty()}, {"failures", failure_list}}}};
  if (notifications) {
    report["notifications"] = json::object{{"reported", counts.reported},
                                           {"delivered", counts.delivered},
                                           {"lost", counts.reported - std::min(counts.reported, counts.delivered)},
                                           {"refused", counts.refused},
                                           {"delay_ms", latency_json(delays)}};
  }
  if (o.host_pid > 0) {
    report["host_pid"] = o.host_pid;
    report["rss"] = rss;
  }

  // The summary, for a reader of the terminal.
  auto line = [](const json::object& l) {
    return "p50 " + fixed(l.at("p50").to_number<double>(), 2) + " ms, p90 " +
           fixed(l.at("p90").to_number<double>(), 2) + " ms, p99 " + fixed(l.at("p99").to_number<double>(), 2) +
           " ms, max " + fixed(l.at("max").to_number<double>(), 2) + " ms";
  };
  std::cout << "requests: " << request_count << " in " << fixed(load_s, 1) << " s ("
            << report.at("achieved_rate_per_s").to_number<double>() << "/s):";
  for (Kind k : kKinds) std::cout << " " << name(k) << " " << stats.requests(k);
  std::cout << "\nlatency (from the time each request was due): " << line(latency.at("all").as_object()) << "\n";
  for (Kind k : kKinds) {
    if (stats.requests(k) > 0) std::cout << "  " << name(k) << ": " << line(latency.at(name(k)).as_object()) << "\n";
  }
  if (notifications) {
    std::cout << "notifications: reported " << counts.reported << ", delivered " << counts.delivered << ", refused "
              << counts.refused << "; delay report -> platform "
              << line(report.at("notifications").at("delay_ms").as_object()) << "\n";
  }
  if (!rss.empty()) {
    for (const char* measure : {"vmrss", "anon"}) {
      const auto& m = rss.at(measure).as_object();
      const std::string window = std::to_string(rss.at("window_samples").as_int64());
      std::cout << "host " << (std::string(measure) == "anon" ? "anonymous RSS" : "RSS (VmRSS)") << " (medians of "
                << window << " samples): " << fixed(static_cast<double>(m.at("baseline_kib").as_int64()) / 1024.0, 1)
                << " MiB from t=" << fixed(rss.at("baseline_t_s").to_number<double>(), 0) << " s, "
                << fixed(static_cast<double>(m.at("final_kib").as_int64()) / 1024.0, 1)
                << " MiB at the end: " << fixed(m.at("growth_pct").to_number<double>(), 2) << " % (peak "
                << fixed(m.at("peak_growth_pct").to_number<double>(), 2) << " %)"
                << (o.rss_measure == measure ? ", judged, bound " + fixed(o.max_rss_growth_pct, 2) + " %" : "") << "\n";
    }
  }
  std::cout << "errors: " << error_count;
  for (const auto& [kind, count] : errors) std::cout << " " << kind << "=" << count;
  std::cout << "\n";
  for (const auto& e : stats.examples()) std::cout << "  " << e << "\n";
  std::cout << (failures.empty() ? "PASSED" : "FAILED");
  for (const auto& f : failures) std::cout << "; " << f;
  std::cout << std::endl;

  if (!o.report_path.empty()) {
    std::ofstream file(o.report_path);
    file << json::serialize(report) << "\n";
    if (!file) {
      std::cerr << "sas-sim load: --report " << o.report_path << ": cannot write\n";
      return 1;
    }
  }
  return failures.empty() ? 0 : 1;
}

}  // namespace sas::sim
