#include "sas/host/fhir/searchset.hpp"

#include <utility>

#include "sas/host/fhir/builders.hpp"

namespace sas::host::fhir {

namespace json = boost::json;

json::object searchset_entry(std::string_view base, std::string_view type, std::string_view id, json::object resource,
                             std::string_view mode, const json::storage_ptr& sp) {
  json::object e(sp);
  e.reserve(3);
  e["fullUrl"] = full_url(base, type, id);
  e["resource"] = std::move(resource);
  json::object search(sp);
  search["mode"] = mode;
  e["search"] = std::move(search);
  return e;
}

json::array single(json::value item, const json::storage_ptr& sp) {
  json::array a(sp);
  a.emplace_back(std::move(item));
  return a;
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
