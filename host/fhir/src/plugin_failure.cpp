#include "sas/host/fhir/plugin_failure.hpp"

#include <string>

namespace sas::host::fhir {

PluginFailureClass classify_plugin_failure(sas_status status) {
  switch (status) {
    case SAS_ERR_INVALID_ARGUMENT:
      return {400, issue_type::kInvalid, "the agenda refused the request"};
    case SAS_ERR_NOT_FOUND:
      return {404, issue_type::kNotFound, "the agenda does not know what was asked for"};
    case SAS_ERR_ALREADY_EXISTS:
      return {409, issue_type::kConflict, "the agenda already has it"};
    case SAS_ERR_UNIMPLEMENTED:
      return {501, issue_type::kNotSupported, "the agenda plugin does not implement this"};
    case SAS_ERR_UNAVAILABLE:
      return {503, issue_type::kTransient, "the agenda is unavailable"};
    case SAS_ERR_CANCELLED:
      return {503, issue_type::kTransient, "the agenda call was cancelled"};
    case SAS_ERR_DEADLINE_EXCEEDED:
      return {504, issue_type::kTimeout, "the agenda did not answer in time"};
    default:
      // A plugin that throws reaches the host as SAS_ERR_INTERNAL: the upstream failed, not us.
      return {502, issue_type::kException, "the agenda plugin failed"};
  }
}

HttpError plugin_failure(sas_status status, std::string_view message) {
  const PluginFailureClass c = classify_plugin_failure(status);
  std::string diagnostics(c.what);
  if (!message.empty()) diagnostics += ": " + std::string(message);
  return http_error(c.status, c.code, diagnostics);
}

HttpError bad_plugin_answer(std::string_view message) {
  return http_error(502, issue_type::kException, "the agenda plugin answered wrongly: " + std::string(message));
}

std::string diagnostics_of(const boost::json::object& outcome) {
  std::string out;
  if (const auto* issues = outcome.if_contains("issue"); issues != nullptr && issues->is_array()) {
    for (const auto& issue : issues->get_array()) {
      if (!issue.is_object()) continue;
      const auto* text = issue.get_object().if_contains("diagnostics");
      if (text == nullptr || !text->is_string()) continue;
      if (!out.empty()) out += "; ";
      out += text->get_string();
    }
  }
  return out;
}

}  // namespace sas::host::fhir
