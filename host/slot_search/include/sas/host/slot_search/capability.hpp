// GET [base]/metadata: the CapabilityStatement of this server, modelled on the IG's
// SAS-GestionnaireAgenda-PsIndiv (which it declares in `instantiates`), but stating what this
// implementation really does: Slot search-type with start (ge/le), status, the chain
// schedule.actor:Practitioner.identifier, _include Slot:schedule and Schedule:actor; JSON only.
// With `cpts` (the plugin offers the CPTS search, INT_R04) it also instantiates
// SAS-GestionnaireAgenda-CPTS: the CPTS includes, the sas-cpts-slot-aggregator Slot profile, the
// HealthcareService and Organization resources.
#pragma once

#include <string>

#include <boost/json.hpp>

namespace sas::host::slot_search {

struct CapabilityOptions {
  std::string base_url;  // implementation.url
  std::string software_name = "SAS integration SDK host";
  std::string software_version;  // omitted when empty
  std::string publisher;         // the vendor; omitted when empty
  std::string date;              // FHIR dateTime of this statement; empty: today (UTC)
  bool cpts = false;             // the CPTS search (INT_R04) is offered
};

boost::json::object build_capability_statement(const CapabilityOptions& options);

}  // namespace sas::host::slot_search
