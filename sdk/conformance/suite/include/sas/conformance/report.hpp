// The results of one run of the suite, and their reports: terminal summary, JSON (schema
// "sas-conformance-report/1", docs/certification.md), JUnit XML and one self-contained HTML page.
//
// Determinism: results follow the catalogue order, findings are sorted, and nothing in a report
// depends on the wall clock except the "timings" section (latencies, durations), which the JSON
// and HTML keep apart and JUnit omits. Two runs with the same inputs and --now give the same
// report outside "timings".
#pragma once

#include <boost/json/value.hpp>

#include <iosfwd>
#include <map>
#include <sas/conformance/catalogue.hpp>
#include <sas/conformance/resource_checks.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sas::conformance {

enum class Status { passed, failed, skipped, not_run };
std::string_view to_string(Status status);

struct CheckResult {
  const Check* check = nullptr;
  Status status = Status::not_run;
  std::vector<Finding> findings;  // sorted, unique
  std::string note;               // why not run, or a remark
};

class Run {
 public:
  // only: when not empty, every other check is "skipped"; skip: these are "skipped".
  Run(const Catalogue& catalogue, std::vector<std::string> only = {}, std::vector<std::string> skip = {});

  const Catalogue& catalogue() const { return catalogue_; }
  // Whether the check is to be run (neither --skip'ed nor outside --only). A prefix ending in
  // '-' or '*' ("R01-FAQ-*") selects a family.
  bool selected(std::string_view id) const;
  // Whether any check of the ids (or with this prefix, e.g. "TLS-") is selected.
  bool any_selected(std::string_view prefix) const;

  void ran(std::string_view id);               // exercised: passed unless it has findings
  void fail(Finding finding);                  // marks it ran, failed
  void add(const std::vector<Finding>& list);  // each finding, filtered by selection
  void note(std::string_view id, std::string note);
  // A document the findings refer to (a response body), for the HTML report.
  void document(const std::string& label, const boost::json::value& body);
  void timing(const std::string& key, double value);  // excluded from determinism
  void info(const std::string& key, const std::string& value);

  std::vector<CheckResult> results() const;  // catalogue order
  bool passed() const;                       // no error-level check failed
  std::size_t count(Status status) const;

  void write_summary(std::ostream& out) const;
  boost::json::object to_json() const;
  std::string to_junit() const;
  std::string to_html() const;

 private:
  const Catalogue& catalogue_;
  std::vector<std::string> only_, skip_;
  std::set<std::string> ran_;
  std::map<std::string, std::vector<Finding>> findings_;
  std::map<std::string, std::string> notes_;
  std::map<std::string, boost::json::value> documents_;
  std::map<std::string, double> timings_;
  std::map<std::string, std::string> info_;
};

// The JSON value pretty-printed as HTML, with the values at `paths` (validator path syntax,
// "entry[3].resource.meta") wrapped in <mark>.
std::string json_to_html(const boost::json::value& value, const std::set<std::string>& paths);

}  // namespace sas::conformance
