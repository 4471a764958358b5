#include "sas/host/fhir/operation_outcome.hpp"

#include "sas/host/fhir/builders.hpp"

namespace sas::host::fhir {

namespace json = boost::json;

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::fatal:
      return "fatal";
    case Severity::error:
      return "error";
    case Severity::warning:
      return "warning";
    case Severity::information:
      return "information";
  }
  return "error";
}

json::object operation_outcome(const std::vector<Issue>& issues) {
  json::array items;
  for (const Issue& issue : issues) {
    json::object i;
    i["severity"] = to_string(issue.severity);
    // issue.code is 1..1 in FHIR: fall back to the most generic code rather than omit it.
    i["code"] = issue.code.empty() ? std::string_view(issue_type::kProcessing) : std::string_view(issue.code);
    put(i, "diagnostics", issue.diagnostics);
    json::array expression;
    for (const auto& e : issue.expression) {
      if (!e.empty()) expression.emplace_back(e);
    }
    put(i, "expression", std::move(expression));
    items.emplace_back(std::move(i));
  }
  if (items.empty()) {
    // OperationOutcome.issue is 1..*.
    items.emplace_back(json::object{{"severity", "information"}, {"code", "informational"}});
  }
  return json::object{{"resourceType", "OperationOutcome"}, {"issue", std::move(items)}};
}

json::object operation_outcome(const Issue& issue) { return operation_outcome(std::vector<Issue>{issue}); }

HttpError http_error(unsigned status, std::string_view code, std::string_view diagnostics,
                     std::string_view expression) {
  Issue issue{Severity::error, std::string(code), std::string(diagnostics), {}};
  if (!expression.empty()) issue.expression.emplace_back(expression);
  return HttpError{status, operation_outcome(issue)};
}

HttpError http_error(unsigned status, const std::vector<Issue>& issues) {
  return HttpError{status, operation_outcome(issues)};
}

}  // namespace sas::host::fhir
