// The one mapping from a plugin's status to the host's HTTP answer, for every flow
// (docs/architecture.md, "Plugin failures as HTTP answers"):
//
//   SAS_ERR_INVALID_ARGUMENT                     400 invalid
//   SAS_ERR_NOT_FOUND                            404 not-found
//   SAS_ERR_ALREADY_EXISTS                       409 conflict
//   SAS_ERR_UNIMPLEMENTED                        501 not-supported
//   SAS_ERR_UNAVAILABLE, SAS_ERR_CANCELLED       503 transient
//   SAS_ERR_DEADLINE_EXCEEDED                    504 timeout
//   anything else (a throw, SAS_ERR_INTERNAL,    502 exception
//   a bad answer, an unknown status)
//
// A flow may word the diagnostics itself (fhir::http_error with plugin_failure_status), but
// does not choose another status, except where the IG defines the answer (INT_R02: 422).
#pragma once

#include <sas/plugin_abi.h>

#include <string_view>

#include "sas/host/fhir/operation_outcome.hpp"

namespace sas::host::fhir {

struct PluginFailureClass {
  unsigned status;        // HTTP status
  std::string_view code;  // OperationOutcome.issue.code
  std::string_view what;  // start of the diagnostics, e.g. "the agenda did not answer in time"
};

// Never SAS_OK: a success is not a failure (it maps like SAS_ERR_INTERNAL).
PluginFailureClass classify_plugin_failure(sas_status status);

inline unsigned plugin_failure_status(sas_status status) { return classify_plugin_failure(status).status; }

// Status and OperationOutcome for a failed plugin call; `message` (the plugin's reason) follows
// the standard wording after ": ", when not empty.
HttpError plugin_failure(sas_status status, std::string_view message);

// A plugin call that succeeded with an answer the host cannot use (no answer of the expected
// kind, a required field missing): 502, like any plugin error.
HttpError bad_plugin_answer(std::string_view message);

// The diagnostics of an OperationOutcome's issues, joined with "; ": for logs and for
// non-FHIR callers (the admin API, the CLI), which show the same words.
std::string diagnostics_of(const boost::json::object& outcome);

}  // namespace sas::host::fhir
