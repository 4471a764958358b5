// What the searchset Bundles of the guide's searches (INT_R01/R04 on Slot, SOS on Schedule) share:
// their entries, and the once-only logging of what an agenda's data got wrong.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sas/host/fhir/json_writer.hpp"

namespace sas::host::fhir {

// A searchset Bundle around the entries the caller writes between the two:
// {"resourceType": "Bundle", "meta": {"profile": [profile]}, "type": "searchset", "total",
//  "link": [{"relation": "self", "url": self_url}], "entry": [...]}.
void begin_searchset(JsonWriter& w, std::string_view profile, std::size_t total, std::string_view self_url);
void end_searchset(JsonWriter& w);

// A searchset entry around the resource the caller writes between the two:
// {"fullUrl": base/type/id, "resource": {"resourceType": type, "id": id, "meta": {"profile":
// [profile]}, ...}, "search": {"mode"}}; no profile: the caller writes the meta.
void begin_searchset_entry(JsonWriter& w, std::string_view base, std::string_view type, std::string_view id,
                           std::string_view profile = {});
void end_searchset_entry(JsonWriter& w, std::string_view mode);

// Logs each distinct warning about the agenda's data once per service: a bad record shows in every
// search that returns it. Beyond `capacity` distinct warnings (an agenda whose every record is
// wrong) new ones are neither remembered nor logged, and the log says so once. Thread-safe.
class WarningsLoggedOnce {
 public:
  // `flow` starts each line ("INT_R04 CPTS search"); no log: nothing is logged.
  using Log = std::function<void(std::string_view)>;
  explicit WarningsLoggedOnce(std::size_t capacity = 1000) : capacity_(capacity) {}

  void log(const Log& log, std::string_view flow, const std::vector<std::string>& warnings);

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace sas::host::fhir
