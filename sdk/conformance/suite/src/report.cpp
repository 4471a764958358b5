// Results of a run and the four report formats.
#include <sas/conformance/report.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <sstream>

namespace sas::conformance {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxFindingsShown = 50;

bool matches(std::string_view id, const std::string& pattern) {
  if (pattern.ends_with('*')) return id.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1));
  if (pattern.ends_with('-')) return id.starts_with(pattern);
  return id == pattern;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
          out += ' ';
        else
          out += c;
    }
  }
  return out;
}

void pretty(const json::value& v, const std::string& path, const std::set<std::string>& paths, int indent,
            std::string& out) {
  const bool marked = paths.contains(path);
  if (marked) out += "<mark>";
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      out += "{}";
    } else {
      out += "{\n";
      std::size_t i = 0;
      for (const auto& [key, child] : o) {
        out += pad + "\"" + xml_escape(key) + "\": ";
        pretty(child, path.empty() ? std::string(key) : path + "." + std::string(key), paths, indent + 2, out);
        out += ++i < o.size() ? ",\n" : "\n";
      }
      out += std::string(static_cast<std::size_t>(indent), ' ') + "}";
    }
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) {
      out += "[]";
    } else {
      out += "[\n";
      for (std::size_t i = 0; i < a.size(); ++i) {
        out += pad;
        pretty(a[i], path + "[" + std::to_string(i) + "]", paths, indent + 2, out);
        out += i + 1 < a.size() ? ",\n" : "\n";
      }
      out += std::string(static_cast<std::size_t>(indent), ' ') + "]";
    }
  } else {
    out += xml_escape(json::serialize(v));
  }
  if (marked) out += "</mark>";
}

std::string format_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

}  // namespace

std::string_view to_string(Status status) {
  switch (status) {
    case Status::passed:
      return "passed";
    case Status::failed:
      return "failed";
    case Status::skipped:
      return "skipped";
    case Status::not_run:
      return "not-run";
  }
  return "not-run";
}

Run::Run(const Catalogue& catalogue, std::vector<std::string> only, std::vector<std::string> skip)
    : catalogue_(catalogue), only_(std::move(only)), skip_(std::move(skip)) {}

bool Run::selected(std::string_view id) const {
  for (const auto& s : skip_)
    if (matches(id, s)) return false;
  if (only_.empty()) return true;
  for (const auto& o : only_)
    if (matches(id, o)) return true;
  return false;
}

bool Run::any_selected(std::string_view prefix) const {
  for (const auto& c : catalogue_.checks())
    if (c.id.starts_with(prefix) && selected(c.id)) return true;
  return false;
}

void Run::ran(std::string_view id) {
  if (selected(id)) ran_.insert(std::string(id));
}

void Run::fail(Finding finding) {
  if (!selected(finding.check_id)) return;
  ran_.insert(finding.check_id);
  findings_[finding.check_id].push_back(std::move(finding));
}

void Run::add(const std::vector<Finding>& list) {
  for (const auto& f : list) fail(f);
}

void Run::note(std::string_view id, std::string text) { notes_[std::string(id)] = std::move(text); }

void Run::document(const std::string& label, const json::value& body) { documents_[label] = body; }

void Run::timing(const std::string& key, double value) { timings_[key] = value; }

void Run::info(const std::string& key, const std::string& value) { info_[key] = value; }

std::vector<CheckResult> Run::results() const {
  std::vector<CheckResult> out;
  std::vector<std::string> unnumbered;
  for (const auto& c : catalogue_.checks()) {
    CheckResult r;
    r.check = &c;
    if (auto n = notes_.find(c.id); n != notes_.end()) r.note = n->second;
    if (!selected(c.id)) {
      r.status = Status::skipped;
    } else if (auto f = findings_.find(c.id); f != findings_.end()) {
      r.status = Status::failed;
      r.findings = f->second;
      std::sort(r.findings.begin(), r.findings.end(), [](const Finding& a, const Finding& b) {
        return std::tie(a.document, a.path, a.message) < std::tie(b.document, b.path, b.message);
      });
      r.findings.erase(std::unique(r.findings.begin(), r.findings.end(),
                                   [](const Finding& a, const Finding& b) {
                                     return a.document == b.document && a.path == b.path && a.message == b.message;
                                   }),
                       r.findings.end());
    } else if (ran_.contains(c.id)) {
      r.status = Status::passed;
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool Run::passed() const {
  for (const auto& r : results())
    if (r.status == Status::failed && r.check->severity == Severity::error) return false;
  return !findings_.contains("PROFILE-UNNUMBERED");
}

std::size_t Run::count(Status status) const {
  std::size_t n = 0;
  for (const auto& r : results()) n += r.status == status ? 1 : 0;
  return n;
}

void Run::write_summary(std::ostream& out) const {
  const auto results = this->results();
  for (const auto& r : results) {
    if (r.status != Status::failed) continue;
    out << (r.check->severity == Severity::error ? "FAIL " : "WARN ") << r.check->id << "  " << r.check->title << "\n";
    if (!r.check->citation.empty()) out << "       (" << r.check->citation << ")\n";
    std::size_t shown = 0;
    for (const auto& f : r.findings) {
      if (++shown > 5) {
        out << "       ... and " << r.findings.size() - 5 << " more\n";
        break;
      }
      out << "       " << f.document << (f.path.empty() ? "" : " at " + f.path) << ": " << f.message << "\n";
    }
  }
  std::size_t errors = 0, warnings = 0;
  for (const auto& r : results)
    if (r.status == Status::failed) (r.check->severity == Severity::error ? errors : warnings)++;
  out << "\n"
      << count(Status::passed) << " passed, " << errors << " failed (error), " << warnings << " failed (warning), "
      << count(Status::not_run) << " not run, " << count(Status::skipped) << " skipped\n";
  for (const auto& [key, value] : timings_) out << "  " << key << ": " << format_number(value) << "\n";
  out << "verdict: " << (passed() ? "PASS" : "FAIL") << "\n";
}

json::object Run::to_json() const {
  json::object root;
  root["schema"] = "sas-conformance-report/1";
  json::object information;
  for (const auto& [key, value] : info_) information[key] = value;
  root["run"] = std::move(information);
  root["verdict"] = passed() ? "pass" : "fail";
  json::object counts;
  for (Status s : {Status::passed, Status::failed, Status::not_run, Status::skipped})
    counts[std::string(to_string(s))] = count(s);
  root["counts"] = std::move(counts);
  json::array checks;
  for (const auto& r : results()) {
    json::object c;
    c["id"] = r.check->id;
    c["title"] = r.check->title;
    c["severity"] = to_string(r.check->severity);
    c["status"] = to_string(r.status);
    c["reference"] = r.check->reference;
    if (!r.check->citation.empty()) c["citation"] = r.check->citation;
    json::array requirements;
    for (const auto& q : r.check->requirements) requirements.push_back(json::value(q));
    c["requirements"] = std::move(requirements);
    if (!r.note.empty()) c["note"] = r.note;
    if (!r.findings.empty()) {
      json::array findings;
      for (const auto& f : r.findings)
        findings.push_back(json::object{{"document", f.document}, {"path", f.path}, {"message", f.message}});
      c["findings"] = std::move(findings);
    }
    checks.push_back(std::move(c));
  }
  root["checks"] = std::move(checks);
  json::object timings;
  for (const auto& [key, value] : timings_) timings[key] = value;
  root["timings"] = std::move(timings);
  return root;
}

std::string Run::to_junit() const {
  const auto results = this->results();
  std::size_t failures = 0, skipped = 0;
  for (const auto& r : results) {
    failures += r.status == Status::failed && r.check->severity == Severity::error ? 1 : 0;
    skipped += r.status == Status::skipped || r.status == Status::not_run ? 1 : 0;
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sas-conformance\">\n"
      << "  <testsuite name=\"sas-conformance\" tests=\"" << results.size() << "\" failures=\"" << failures
      << "\" errors=\"0\" skipped=\"" << skipped << "\">\n";
  for (const auto& r : results) {
    out << "    <testcase classname=\"sas-conformance." << xml_escape(r.check->flow) << "\" name=\""
        << xml_escape(r.check->id + " " + r.check->title) << "\"";
    if (r.status == Status::passed) {
      out << "/>\n";
      continue;
    }
    out << ">\n";
    if (r.status == Status::failed) {
      std::string text;
      for (const auto& f : r.findings)
        text += f.document + (f.path.empty() ? "" : " at " + f.path) + ": " + f.message + "\n";
      if (r.check->severity == Severity::error) {
        out << "      <failure message=\"" << xml_escape(r.findings.front().message) << "\">" << xml_escape(text)
            << "</failure>\n";
      } else {
        out << "      <system-out>warning: " << xml_escape(text) << "</system-out>\n";
      }
    } else {
      out << "      <skipped message=\"" << xml_escape(r.note.empty() ? std::string(to_string(r.status)) : r.note)
          << "\"/>\n";
    }
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
  return out.str();
}

std::string Run::to_html() const {
  const auto results = this->results();
  std::ostringstream out;
  const bool ok = passed();
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sas-conformance report</title>\n"
      << "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
         "padding:3px 6px;text-align:left;vertical-align:top}.passed{color:#070}.failed{color:#b00;font-weight:bold}"
         ".skipped,.not-run{color:#777}.verdict{font-size:2em;padding:.3em;display:inline-block}.pass{background:#dfd}"
         ".fail{background:#fdd}pre{background:#f6f6f6;padding:1em;overflow:auto;max-height:40em}mark{background:#ff0;"
         "outline:2px solid #b00}</style></head><body>\n";
  out << "<h1>SAS conformance report</h1>\n<div class=\"verdict " << (ok ? "pass\">PASS" : "fail\">FAIL") << "</div>\n";
  out << "<table>";
  for (const auto& [key, value] : info_)
    out << "<tr><th>" << xml_escape(key) << "</th><td>" << xml_escape(value) << "</td></tr>";
  out << "</table>\n<p>" << count(Status::passed) << " passed, " << count(Status::failed) << " failed, "
      << count(Status::not_run) << " not run, " << count(Status::skipped) << " skipped.</p>\n";
  out << "<h2>Checks</h2>\n<table><tr><th>id</th><th>check</th><th>severity</th><th>status</th><th>ANS</th><th>note</"
         "th></tr>\n";
  for (const auto& r : results) {
    const std::string status(to_string(r.status));
    out << "<tr><td><a href=\"" << xml_escape(r.check->reference) << "\">" << xml_escape(r.check->id) << "</a></td><td>"
        << xml_escape(r.check->title) << "</td><td>" << to_string(r.check->severity) << "</td><td class=\"" << status
        << "\">";
    if (r.status == Status::failed)
      out << "<a href=\"#" << xml_escape(r.check->id) << "\">" << status << " (" << r.findings.size() << ")</a>";
    else
      out << status;
    out << "</td><td>";
    for (std::size_t i = 0; i < r.check->requirements.size(); ++i) out << (i ? ", " : "") << r.check->requirements[i];
    out << "</td><td>" << xml_escape(r.note) << "</td></tr>\n";
  }
  out << "</table>\n<h2>Failures</h2>\n";
  std::map<std::string, std::set<std::string>> highlighted;  // document → paths
  for (const auto& r : results) {
    if (r.status != Status::failed) continue;
    out << "<h3 id=\"" << xml_escape(r.check->id) << "\">" << xml_escape(r.check->id) << " — "
        << xml_escape(r.check->title) << "</h3>\n<ul>\n";
    std::size_t shown = 0;
    for (const auto& f : r.findings) {
      if (++shown > kMaxFindingsShown) {
        out << "<li>... and " << r.findings.size() - kMaxFindingsShown << " more</li>\n";
        break;
      }
      const bool has_doc = documents_.contains(f.document);
      if (has_doc) highlighted[f.document].insert(f.path);
      out << "<li>";
      if (has_doc) out << "<a href=\"#doc-" << xml_escape(f.document) << "\">";
      out << xml_escape(f.document);
      if (has_doc) out << "</a>";
      out << (f.path.empty() ? "" : " at <code>" + xml_escape(f.path) + "</code>") << ": " << xml_escape(f.message)
          << "</li>\n";
    }
    out << "</ul>\n";
  }
  if (!highlighted.empty()) out << "<h2>Failing documents</h2>\n";
  for (const auto& [label, paths] : highlighted) {
    out << "<h3 id=\"doc-" << xml_escape(label) << "\">" << xml_escape(label) << "</h3>\n<pre>";
    std::string text;
    pretty(documents_.at(label), "", paths, 0, text);
    out << text << "</pre>\n";
  }
  if (!timings_.empty()) {
    out << "<h2>Timings (not part of the verdict's determinism)</h2>\n<table>";
    for (const auto& [key, value] : timings_)
      out << "<tr><th>" << xml_escape(key) << "</th><td>" << format_number(value) << "</td></tr>";
    out << "</table>\n";
  }
  out << "</body></html>\n";
  return out.str();
}

std::string json_to_html(const json::value& value, const std::set<std::string>& paths) {
  std::string out;
  pretty(value, "", paths, 0, out);
  return out;
}

}  // namespace sas::conformance
