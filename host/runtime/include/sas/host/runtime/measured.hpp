// The runtime's measurements (docs/operations.md, "Monitor"), taken where every call passes
// rather than in each flow:
// - MeasuredPlugin decorates the plugin every flow holds (either isolation mode):
//   sas_plugin_calls_total{call,status} and sas_plugin_call_duration_seconds{call}, `call` the
//   PluginRequest case (search_slots, search_sos_slots, write_regulator_account,
//   apply_billing_decision), `status` "ok" or the SAS_ERR_* name;
// - measure_store decorates each repository of the store: sas_store_errors_total{operation},
//   `operation` "REPOSITORY.METHOD" (e.g. "outbox.claim"), one per StoreError thrown, whoever
//   catches it.
#pragma once

#include <map>
#include <memory>
#include <sas/host/metrics/registry.hpp>
#include <sas/host/plugin_loader/plugin.hpp>

namespace sas::host::store {
struct Store;
}

namespace sas::host::runtime {

class MeasuredPlugin final : public plugin_loader::Plugin {
 public:
  // Registers the two families in `registry`, with every call's series at 0.
  MeasuredPlugin(std::shared_ptr<plugin_loader::Plugin> inner, metrics::Registry& registry);

  const plugin_loader::PluginManifest& manifest() const override { return inner_->manifest(); }
  uint32_t abi_version() const override { return inner_->abi_version(); }
  bool free_threaded() const override { return inner_->free_threaded(); }
  plugin_loader::CallResult call(const sas::plugin::v1::PluginRequest& request,
                                 sas::plugin::v1::PluginResponse& response,
                                 std::chrono::system_clock::time_point deadline = {},
                                 std::stop_token stop = {}) override;
  void shutdown() override { inner_->shutdown(); }
  const char* isolation() const override { return inner_->isolation(); }
  const plugin_loader::Plugin& innermost() const override { return inner_->innermost(); }

 private:
  struct Call {
    std::string_view name;  // the descriptor's, which lives as long as the process
    metrics::Counter* ok = nullptr;
    metrics::Histogram* duration = nullptr;
  };
  Call call_of(int method_case) const;

  std::shared_ptr<plugin_loader::Plugin> inner_;
  metrics::CounterFamily& calls_;
  metrics::HistogramFamily& durations_;
  std::map<int, Call> by_case_;  // PluginRequest::MethodCase; read-only after construction
};

// The same store, each repository counting its StoreErrors in sas_store_errors_total.
store::Store measure_store(store::Store store, metrics::Registry& registry);

}  // namespace sas::host::runtime
