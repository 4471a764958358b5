// OperationOutcome, the body of every FHIR error answer, and HttpError = status + that body.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

namespace sas::host::fhir {

enum class Severity { fatal, error, warning, information };
std::string_view to_string(Severity s);

// OperationOutcome.issue.code values (http://hl7.org/fhir/issue-type) the host uses.
namespace issue_type {
inline constexpr std::string_view kInvalid = "invalid";             // malformed request or content
inline constexpr std::string_view kRequired = "required";           // a mandatory parameter is missing
inline constexpr std::string_view kValue = "value";                 // a value is not allowed
inline constexpr std::string_view kNotSupported = "not-supported";  // understood but not supported here
inline constexpr std::string_view kBusinessRule = "business-rule";
inline constexpr std::string_view kProcessing = "processing";  // the server failed while doing it
inline constexpr std::string_view kTooLong = "too-long";       // a request target, header fields or body past a limit
inline constexpr std::string_view kTimeout = "timeout";
inline constexpr std::string_view kNotFound = "not-found";
inline constexpr std::string_view kSecurity = "security";
inline constexpr std::string_view kException = "exception";
inline constexpr std::string_view kConflict = "conflict";    // the target already exists, or a version clash
inline constexpr std::string_view kTransient = "transient";  // retry later
inline constexpr std::string_view kStructure = "structure";  // not even parseable (HTTP, JSON)
}  // namespace issue_type

struct Issue {
  Severity severity = Severity::error;
  std::string code;         // an issue_type value
  std::string diagnostics;  // for a human: what was wrong and what was expected
  // The offending search parameter (e.g. "start") or element (e.g. "Practitioner.identifier").
  std::vector<std::string> expression;
};

boost::json::object operation_outcome(const std::vector<Issue>& issues);
boost::json::object operation_outcome(const Issue& issue);

// An answer that is not a success: HTTP status and its OperationOutcome body.
struct HttpError {
  unsigned status = 400;
  boost::json::object outcome;
};

HttpError http_error(unsigned status, std::string_view code, std::string_view diagnostics,
                     std::string_view expression = {});
HttpError http_error(unsigned status, const std::vector<Issue>& issues);

}  // namespace sas::host::fhir
