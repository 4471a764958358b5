// GET [base]/metadata, the SOS Médecins part: what FhirEndpoint::metadata() adds to the
// host's CapabilityStatement when the plugin offers the search (SosSearchService::supported):
// `instantiates` gains SAS-GestionnaireAgenda-SOS, and the server's resources say what this
// implementation really does, modelled on the IG's statement: Schedule search-type with _has
// (start ge/le, status), the chain actor:Location.organization.identifier, _revinclude
// Slot:schedule, _include Schedule:actor:Location and Location:organization; the SOS profiles of
// Slot, Location and Organization.
//
// A resource type is described once per REST mode (FHIR), so an entry that exists already (the
// INT_R01 Slot and Schedule, or an Organization another flow declared) is completed, not
// repeated: the SOS profile goes to its supportedProfile.
#pragma once

#include <boost/json.hpp>

namespace sas::host::sos_search {

// Adds the SOS Médecins search to `statement`, a CapabilityStatement with one server `rest`.
void add_to_capability_statement(boost::json::object& statement);

}  // namespace sas::host::sos_search
