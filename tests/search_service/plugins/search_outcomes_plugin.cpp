// A slot-search plugin whose answer is chosen by the first practitioner asked for, so that one
// host shows every outcome: a throw, each failure status, a deadline it waits for, and data the
// Bundle builder must repair (its warnings).
#include <chrono>
#include <fstream>
#include <sas/sdk/plugin.hpp>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

class SearchOutcomesPlugin final : public sas::sdk::AgendaPlugin {
 public:
  // config "record=FILE": where the polling search writes when it saw should_stop().
  sas::sdk::Status init(std::string_view config, const sas::sdk::Host&) override {
    if (config.starts_with("record=")) record_ = std::string(config.substr(7));
    return sas::sdk::Status::ok();
  }

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
    if (first == "810000000066") {
      // Polls should_stop() as a long search would, and records when it saw it (unix micros).
      while (!context.should_stop()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const auto seen =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      if (!record_.empty()) {
        std::ofstream(record_, std::ios::app) << seen << "\n";
      }
      return sas::sdk::Status::deadline_exceeded("stopped");
    }
    if (first == "810000000044") return sas::sdk::Status::invalid_argument("the agenda cannot search that window");
    if (first == "810000000055") {
      // A practitioner without an id: the builder ignores it and warns.
      response.add_practitioners()->set_family_name("SANSID");
    }
    return sas::sdk::Status::ok();
  }

 private:
  std::string record_;
};

}  // namespace

SAS_PLUGIN(SearchOutcomesPlugin, "search-outcomes", "tests", "1.0.0", "slot-search", free_threaded)
