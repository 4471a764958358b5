// The platform's SOS Médecins search (IG page specifications_techniques-sos-recherche_creneaux):
// the URL it sends, and `sas-sim search --sos`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sas::sim {

// The SOS search URL exactly as the IG writes it: every include, `_has:Slot:schedule:start` ge and
// le, status free, the SIRETs as urn:oid:1.2.250.1.71.4.2.2|3SIRET joined by commas, `|` raw as
// the platform sends it, `+` as %2B. `from`/`to` are FHIR dateTimes; SIRETs are sent as given.
std::string sos_search_url(std::string_view base, const std::vector<std::string>& association_sirets,
                           std::string_view from, std::string_view to);

}  // namespace sas::sim

namespace sas::sim::cli {

// sas-sim search --sos SIRET,...: one SOS search over mutual TLS, with a summary of the answer by
// association, consultation place and slot (or the raw answer).
int search_sos(const std::vector<std::string>& args);

}  // namespace sas::sim::cli
