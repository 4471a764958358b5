#include <sas/host/runtime/host_call_router.hpp>

#include <google/protobuf/descriptor.h>

#include <exception>
#include <stdexcept>

namespace sas::host::runtime {

std::string method_name(HostMethod method) {
  const auto* field = v1::HostRequest::descriptor()->FindFieldByNumber(static_cast<int>(method));
  if (field == nullptr || field->containing_oneof() == nullptr) return std::to_string(static_cast<int>(method));
  return field->name();
}

HostCallRouter& HostCallRouter::on(HostMethod method, HostCallHandler handler) {
  if (method == v1::HostRequest::METHOD_NOT_SET) throw std::logic_error("host call router: no method case");
  if (!handler) throw std::logic_error("host call router: empty handler for " + method_name(method));
  if (!handlers_.emplace(method, std::move(handler)).second) {
    throw std::logic_error("host call router: " + method_name(method) + " has a handler already");
  }
  return *this;
}

HostCallRouter& HostCallRouter::on(std::initializer_list<HostMethod> methods, const HostCallHandler& handler) {
  for (HostMethod method : methods) on(method, handler);
  return *this;
}

std::vector<HostMethod> HostCallRouter::methods() const {
  std::vector<HostMethod> out;
  out.reserve(handlers_.size());
  for (const auto& [method, handler] : handlers_) out.push_back(method);
  return out;
}

plugin_loader::CallResult HostCallRouter::handle(const v1::HostRequest& request, v1::HostResponse& response) const {
  const HostMethod method = request.method_case();
  auto it = handlers_.find(method);
  if (it == handlers_.end()) {
    if (method == v1::HostRequest::METHOD_NOT_SET) {
      return {SAS_ERR_UNIMPLEMENTED, "this host does not answer host method 0 (a HostRequest without a method)"};
    }
    return {SAS_ERR_UNIMPLEMENTED, "this host does not answer host method " + std::to_string(static_cast<int>(method)) +
                                       " (" + method_name(method) + ")"};
  }
  try {
    return it->second(request, response);
  } catch (const std::exception& e) {
    response.Clear();
    return {SAS_ERR_INTERNAL, method_name(method) + ": " + e.what()};
  }
}

}  // namespace sas::host::runtime
