// The one router of the plugin's host calls (sas_host_api.call_host, ABI 1.2+): one handler per
// HostRequest method case, registered by the flow that answers it before the plugin is loaded;
// a case nobody registered is answered SAS_ERR_UNIMPLEMENTED with a message naming it. It plugs
// into plugin_loader::HostServices::handle_request (as_handler).
#pragma once

#include <sas/plugin/v1/plugin.pb.h>

#include <functional>
#include <initializer_list>
#include <map>
#include <sas/host/plugin_loader/plugin.hpp>
#include <string>
#include <vector>

namespace sas::host::runtime {

namespace v1 = ::sas::plugin::v1;

using HostMethod = v1::HostRequest::MethodCase;
// What answers one host call: fills `response` (the case of the request) or returns a failure.
// Called from any plugin thread at once; must never call back into the plugin synchronously.
using HostCallHandler =
    std::function<plugin_loader::CallResult(const v1::HostRequest& request, v1::HostResponse& response)>;

// The proto name of a method case ("appointment_event"), or its number when the case is unknown.
std::string method_name(HostMethod method);

class HostCallRouter {
 public:
  // Registers the handler of one case. Throws std::logic_error for METHOD_NOT_SET, an empty
  // handler or a case already registered (one handler per case).
  HostCallRouter& on(HostMethod method, HostCallHandler handler);
  // The same handler for several cases (a flow answering a family of calls).
  HostCallRouter& on(std::initializer_list<HostMethod> methods, const HostCallHandler& handler);

  bool answers(HostMethod method) const { return handlers_.contains(method); }
  std::vector<HostMethod> methods() const;  // registered, in case order

  // Thread-safe once registration is over (registration happens before the plugin is loaded);
  // never throws: a handler's exception is SAS_ERR_INTERNAL with its message.
  plugin_loader::CallResult handle(const v1::HostRequest& request, v1::HostResponse& response) const;

 private:
  std::map<HostMethod, HostCallHandler> handlers_;
};

}  // namespace sas::host::runtime
