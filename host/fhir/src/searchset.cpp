#include "sas/host/fhir/searchset.hpp"

#include <utility>

#include "sas/host/fhir/builders.hpp"
#include "sas/host/fhir/element_writers.hpp"

namespace sas::host::fhir {

void begin_searchset(JsonWriter& w, std::string_view profile, std::size_t total, std::string_view self_url) {
  w.begin_object();
  w.string("resourceType", "Bundle");
  begin_meta(w, profile);
  w.end_object();
  w.string("type", "searchset");
  w.number("total", static_cast<std::int64_t>(total));
  w.begin_array("link");
  w.begin_object();
  w.string("relation", "self");
  w.string("url", self_url);
  w.end_object();
  w.end_array();
  w.begin_array("entry");
}

void end_searchset(JsonWriter& w) {
  w.end_array();  // entry: taken out when there is none
  w.end_object();
}

void begin_searchset_entry(JsonWriter& w, std::string_view base, std::string_view type, std::string_view id,
                           std::string_view profile) {
  w.begin_object();
  w.string("fullUrl", {without_trailing_slashes(base), "/", type, "/", id});
  w.begin_object("resource");
  w.string("resourceType", type);
  w.string("id", id);
  if (profile.empty()) return;
  begin_meta(w, profile);
  w.end_object();
}

void end_searchset_entry(JsonWriter& w, std::string_view mode) {
  w.end_object();  // resource
  w.begin_object("search");
  w.string("mode", mode);
  w.end_object();
  w.end_object();
}

void WarningsLoggedOnce::log(const Log& log, std::string_view flow, const std::vector<std::string>& warnings) {
  if (!log || warnings.empty()) return;
  std::vector<std::string> fresh;
  bool now_full = false;
  {
    std::lock_guard lock(mutex_);
    for (const auto& w : warnings) {
      if (seen_.size() >= capacity_) break;
      if (seen_.insert(w).second) {
        fresh.push_back(w);
        now_full = seen_.size() == capacity_;
      }
    }
  }
  // Logged outside the lock: the log may block on its stream.
  for (const auto& w : fresh) log(std::string(flow) + ": the agenda's data: " + w + " (logged once)");
  if (now_full) {
    log(std::string(flow) + ": " + std::to_string(capacity_) + " distinct data warnings logged; further ones are not");
  }
}

}  // namespace sas::host::fhir
