// The checks that apply to what a vendor emits: the profile checks (through the validator), the
// structure of an INT_R01 answer (R01-BUNDLE-*), the IG FAQ's common errors (R01-FAQ-*), the CPTS
// chain of an INT_R04 answer (R04-CPTS-*) and the structure of an SOS answer (SOS-BUNDLE-*).
#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <sas/conformance/catalogue.hpp>
#include <set>
#include <string>
#include <vector>

namespace sas::conformance {

// One failure of one check on one document.
struct Finding {
  std::string check_id;
  std::string document;  // label of the document (response, file) it was found in
  std::string path;      // JSON path in that document, "" = the document itself
  std::string message;
};

// What the answer to one search must agree with; every field is optional.
struct SearchContext {
  std::optional<std::chrono::sys_time<std::chrono::milliseconds>> from;  // start=ge
  std::optional<std::chrono::sys_time<std::chrono::milliseconds>> to;    // start=le
  std::set<std::string> practitioners;  // prefixed national ids asked for; empty = not known
  bool count_given = false;             // _count was sent: total may exceed the entries
  // INT_R04: practitioners the test data declares open to CPTS (each must have CPTS Slots), and
  // those with a Slot open to two CPTS (FAQ 11). Prefixed national ids.
  std::set<std::string> cpts_practitioners;
  std::set<std::string> cpts_two;
  // SOS: the prefixed SIRETs asked for (empty = not known) and those the test data declares with
  // free slots in the window (each must be in the answer).
  std::set<std::string> sirets;
  std::set<std::string> sos_declared;
  std::string request_target;  // the request ("/Schedule?..."), for the self link; "" = not known
};

// Profile checks (validate_declared, issues numbered by the catalogue) on any resource or Bundle.
std::vector<Finding> check_profiles(const Catalogue& catalogue, const ProfileSet& profiles,
                                    const boost::json::value& document, const std::string& label);

// An INT_R01 search answer: profile checks, R01-BUNDLE-* and R01-FAQ-*.
std::vector<Finding> check_search_bundle(const Catalogue& catalogue, const ProfileSet& profiles,
                                         const boost::json::value& bundle, const std::string& label,
                                         const SearchContext& context = {});

// Ids of the checks check_search_bundle runs (those it can fail), for "passed" verdicts.
std::vector<std::string> search_bundle_check_ids(const Catalogue& catalogue);

// An INT_R04 (CPTS) search answer: profile checks; the INT_R01 structure and FAQ checks on its
// Slots, Schedules, Practitioners and PractitionerRoles (but R01-FAQ-06 and -11, which the CPTS
// checks refine); R04-CPTS-*.
std::vector<Finding> check_cpts_bundle(const Catalogue& catalogue, const ProfileSet& profiles,
                                       const boost::json::value& bundle, const std::string& label,
                                       const SearchContext& context = {});
// Ids of the checks check_cpts_bundle runs.
std::vector<std::string> cpts_bundle_check_ids(const Catalogue& catalogue);

// An SOS search answer: profile checks and SOS-BUNDLE-*.
std::vector<Finding> check_sos_bundle(const Catalogue& catalogue, const ProfileSet& profiles,
                                      const boost::json::value& bundle, const std::string& label,
                                      const SearchContext& context = {});
// Ids of the checks check_sos_bundle runs.
std::vector<std::string> sos_bundle_check_ids(const Catalogue& catalogue);

// The checks that apply to one document, whatever it is: a search Bundle gets the checks of its
// search (by the Bundle profile it declares: check_search_bundle, check_cpts_bundle or
// check_sos_bundle), anything else check_profiles. For `sas-conformance validate` and the tests.
std::vector<Finding> check_document(const Catalogue& catalogue, const ProfileSet& profiles,
                                    const boost::json::value& document, const std::string& label);

}  // namespace sas::conformance
