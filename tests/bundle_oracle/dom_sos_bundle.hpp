// The SOS Médecins Bundle builder as it was before the host wrote its answers straight into the
// output (issue #22): a Boost.JSON tree, pruned, then serialized. Kept unchanged as the oracle the
// streaming writer must match byte for byte, report included.
#pragma once

#include <string>

#include <sas/host/sos_search/bundle.hpp>

namespace sas::test::oracle {

std::string dom_sos_bundle(const sas::host::sos_search::ParsedSosQuery& query,
                           const sas::plugin::v1::SearchSosSlotsResponse& response,
                           const sas::host::sos_search::SosBundleOptions& options,
                           sas::host::sos_search::SosBuildReport* report = nullptr);

}  // namespace sas::test::oracle
