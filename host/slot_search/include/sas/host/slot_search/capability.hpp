// GET [base]/metadata: the CapabilityStatement of this server, modelled on the IG's
// SAS-GestionnaireAgenda-PsIndiv (which it declares in `instantiates`), but stating what this
// implementation really does: Slot search-type with start (ge/le), status, the chain
// schedule.actor:Practitioner.identifier, _include Slot:schedule and Schedule:actor; JSON only.
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
};

boost::json::object build_capability_statement(const CapabilityOptions& options);

}  // namespace sas::host::slot_search
