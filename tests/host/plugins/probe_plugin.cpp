// A plugin built with the SDK that lets tests observe the boundary: it declares itself
// serialized and fails loudly if the host ever overlaps two calls, throws on request, logs
// through the host and reports the host's clock.
#include <atomic>
#include <sas/sdk/plugin.hpp>
#include <stdexcept>
#include <thread>

namespace {

class ProbePlugin final : public sas::sdk::AgendaPlugin {
 public:
  sas::sdk::Status init(std::string_view config, const sas::sdk::Host& host) override {
    if (config == "fail") return sas::sdk::Status::invalid_argument("probe told to fail: config=fail");
    if (config == "throw") throw std::runtime_error("probe init exploded");
    host_ = &host;
    host.log(sas::sdk::LogLevel::info, "probe ready");
    return sas::sdk::Status::ok();
  }

  sas::sdk::Status search_slots(const sas::sdk::v1::SearchSlotsRequest& request,
                                sas::sdk::v1::SearchSlotsResponse& response,
                                const sas::sdk::CallContext& context) override {
    if (in_flight_.fetch_add(1) != 0) {
      in_flight_.fetch_sub(1);
      return sas::sdk::Status::internal("two calls overlapped on a serialized plugin");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    in_flight_.fetch_sub(1);
    const std::string first = request.practitioner_national_ids_size() > 0 ? request.practitioner_national_ids(0) : "";
    if (first == "throw") throw std::runtime_error("probe search exploded");
    if (first == "deadline") {
      while (!context.should_stop()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return sas::sdk::Status::deadline_exceeded("gave up at the deadline");
    }
    auto& practitioner = *response.add_practitioners();
    practitioner.set_id("clock");
    // The host's clock, in seconds, carried back so a test can see the service works.
    practitioner.set_national_id(
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(host_->now().time_since_epoch()).count()));
    return sas::sdk::Status::ok();
  }

 private:
  const sas::sdk::Host* host_ = nullptr;
  std::atomic<int> in_flight_{0};
};

}  // namespace

SAS_PLUGIN(ProbePlugin, "probe", "tests", "1.2.3", "slot-search", serialized)
