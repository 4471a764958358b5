// The JSON forms of a consultation and of a decision (docs/billing.md, "Consultation file").
#pragma once

#include <boost/json.hpp>
#include <sas/host/billing/engine.hpp>
#include <string_view>

namespace sas::host::billing {

// Parses a consultation file; throws BillingError naming the field ("consultation: field
// \"consulted_at\": ...").
Consultation parse_consultation(std::string_view json);
Consultation consultation_from_json(const boost::json::value& value);
boost::json::object consultation_to_json(const Consultation& consultation);

boost::json::object decision_to_json(const Decision& decision);

}  // namespace sas::host::billing
