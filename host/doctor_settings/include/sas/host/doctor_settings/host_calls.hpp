// The host's side of the doctor settings host calls (ABI 1.4, HostRequest cases 18 to 23): a
// plugin drives the Service from the vendor's UI, or pushes what its agenda already stores.
// Converts the v1 messages to Service calls and the Service's errors to ABI statuses:
//   SettingsError, RuleError -> SAS_ERR_INVALID_ARGUMENT (the message names the field or rule;
//                               nothing changed)
//   NotFound                 -> SAS_ERR_NOT_FOUND
//   StoreError               -> SAS_ERR_UNAVAILABLE (retry)
// Every change is recorded with source "plugin" and by `changed_by`, or the plugin's manifest
// name when the request has none.
#pragma once

#include <memory>
#include <string>

#include <sas/plugin/v1/plugin.pb.h>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/host/plugin_loader/plugin.hpp>

namespace sas::host::doctor_settings {

namespace v1 = ::sas::plugin::v1;

class HostCalls {
 public:
  // `plugin_name`: the manifest name, who a change is by when the request says nobody.
  HostCalls(std::shared_ptr<Service> service, std::string plugin_name);

  // For plugin_loader::HostServices::handle_request. Thread-safe; never calls back into the plugin. Any other
  // method: SAS_ERR_UNIMPLEMENTED.
  plugin_loader::CallResult handle(const v1::HostRequest& request, v1::HostResponse& response) const;

 private:
  Actor actor(const std::string& changed_by) const;

  std::shared_ptr<Service> service_;
  std::string plugin_name_;
};

// The ABI form of the settings in force.
v1::DoctorSettings settings_to_message(const Settings& settings);
// A rule as its stored id and JSON form (with "id").
v1::PublicationRule rule_to_message(const Rule& rule);

}  // namespace sas::host::doctor_settings
