// The INT_R01/INT_R04 Bundle builder as it was before the host wrote its answers straight into
// the output (issue #22): a Boost.JSON tree, pruned, then serialized. Kept here, unchanged, as
// the oracle the streaming writer must match byte for byte, report included.
#pragma once

#include <string>

#include <sas/host/slot_search/bundle.hpp>

namespace sas::test::oracle {

std::string dom_search_bundle(const sas::host::slot_search::ParsedSlotQuery& query,
                              const sas::plugin::v1::SearchSlotsResponse& response,
                              const sas::host::slot_search::BundleOptions& options,
                              sas::host::slot_search::BuildReport* report = nullptr);

}  // namespace sas::test::oracle
