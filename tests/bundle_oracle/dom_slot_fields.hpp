// The Slot elements of host/slot_search/slot_fields.hpp as they were built before issue #22, as
// Boost.JSON values: what the oracle Bundles are made of.
#pragma once

#include <string_view>

#include <boost/json.hpp>

#include "sas/host/slot_search/slot_fields.hpp"
#include "sas/plugin/v1/plugin.pb.h"

namespace sas::test::oracle::fields {

// Unchanged by issue #22, used as they are.
using sas::host::slot_search::address_complete;
using sas::host::slot_search::kSlotCpts;
using sas::host::slot_search::kSlotPro;
using sas::host::slot_search::kSlotPublic;
using sas::host::slot_search::kSlotSnp;
using sas::host::slot_search::kSpecialtyCodeSentAsText;
using sas::host::slot_search::slot_types;

boost::json::array security_labels(unsigned types, const boost::json::storage_ptr& sp);
void append_consultation_modes(boost::json::array& service_types, const sas::plugin::v1::Slot& slot,
                               const boost::json::storage_ptr& sp);
void append_motives(boost::json::array& service_types, const sas::plugin::v1::Slot& slot,
                    const boost::json::storage_ptr& sp);
boost::json::array specialties(const google::protobuf::RepeatedPtrField<sas::plugin::v1::Specialty>& list,
                               const boost::json::storage_ptr& sp, int* invalid_codes = nullptr);
boost::json::object appointment_type(bool walk_in, const boost::json::storage_ptr& sp);
boost::json::object address(const google::protobuf::RepeatedPtrField<std::string>& lines, std::string_view postal_code,
                            std::string_view city, const boost::json::storage_ptr& sp, bool* complete = nullptr);

// {"fullUrl": base/type/id, "resource": resource, "search": {"mode": mode}}, in `sp`.
boost::json::object searchset_entry(std::string_view base, std::string_view type, std::string_view id,
                                    boost::json::object resource, std::string_view mode,
                                    const boost::json::storage_ptr& sp);
// [item], in `sp`.
boost::json::array single(boost::json::value item, const boost::json::storage_ptr& sp);

}  // namespace sas::test::oracle::fields
