// A slot-search plugin whose answer is chosen by the first practitioner asked for, so that one
// host shows every outcome: a throw, each failure status, a deadline it waits for, and data the
// Bundle builder must repair (its warnings).
#include <chrono>
#include <sas/sdk/plugin.hpp>
#include <stdexcept>
#include <thread>

namespace {

class SearchOutcomesPlugin final : public sas::sdk::AgendaPlugin {
 public:
  sas::sdk::Status init(std::string_view, const sas::sdk::Host&) override { return sas::sdk::Status::ok(); }

  sas::sdk::Status search_slots(const sas::sdk::v1::SearchSlotsRequest& request,
                                sas::sdk::v1::SearchSlotsResponse& response,
                                const sas::sdk::CallContext& context) override {
    const std::string first = request.practitioner_national_ids_size() > 0 ? request.practitioner_national_ids(0) : "";
    if (first == "810000000011") throw std::runtime_error("search exploded on a \"quoted\" C:\\agenda path");
    if (first == "810000000022") return sas::sdk::Status::unavailable("agenda database is locked");
    if (first == "810000000033") {
      while (!context.should_stop()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      return sas::sdk::Status::deadline_exceeded("gave up at the deadline");
    }
    if (first == "810000000044") return sas::sdk::Status::invalid_argument("the agenda cannot search that window");
    if (first == "810000000055") {
      // A practitioner without an id: the builder ignores it and warns.
      response.add_practitioners()->set_family_name("SANSID");
    }
    return sas::sdk::Status::ok();
  }
};

}  // namespace

SAS_PLUGIN(SearchOutcomesPlugin, "search-outcomes", "tests", "1.0.0", "slot-search", free_threaded)
