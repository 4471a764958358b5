#include "sas/host/fhir/json.hpp"
#include <cmath>
#include <cstdio>

#include <algorithm>
#include <cctype>
#include <utility>

namespace sas::host::fhir {

namespace json = boost::json;

bool is_empty(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return true;
    case json::kind::string:
      return v.get_string().empty();
    case json::kind::array:
      return v.get_array().empty();
    case json::kind::object:
      return v.get_object().empty();
    default:
      return false;
  }
}

namespace {

void prune_array(json::array& arr);

void prune_children(json::value& v) {
  if (v.is_object()) {
    prune_empty(v.get_object());
  } else if (v.is_array()) {
    prune_array(v.get_array());
  }
}

void prune_array(json::array& arr) {
  for (auto& item : arr) prune_children(item);
  const auto end = std::remove_if(arr.begin(), arr.end(), [](const json::value& item) { return is_empty(item); });
  arr.erase(end, arr.end());
}

}  // namespace

void prune_empty(json::object& obj) {
  for (auto it = obj.begin(); it != obj.end();) {
    prune_children(it->value());
    // stable_erase keeps member order (erase would move the last member into the hole).
    if (is_empty(it->value())) {
      it = obj.stable_erase(it);
    } else {
      ++it;
    }
  }
}

void prune_empty(json::value& v) { prune_children(v); }

std::string serialize(json::value v) {
  prune_empty(v);
  return json::serialize(v);
}

std::string serialize(json::object obj) {
  prune_empty(obj);
  return json::serialize(obj);
}

namespace {

std::string lower_trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Format classify_format(std::string_view value) {
  // Media type parameters (";charset=utf-8", ";fhirVersion=4.0") do not change the format.
  const auto semicolon = value.find(';');
  const std::string v = lower_trimmed(value.substr(0, semicolon));
  if (v == "json" || v == "application/json" || v == "application/fhir+json" || v == "text/json") return Format::json;
  if (v == "xml" || v == "application/xml" || v == "application/fhir+xml" || v == "text/xml") return Format::xml;
  if (v == "*/*" || v == "application/*") return Format::any;
  return Format::unsupported;
}

bool accept_allows_json(std::string_view accept_header) {
  if (lower_trimmed(accept_header).empty()) return true;
  std::size_t pos = 0;
  while (pos <= accept_header.size()) {
    const auto comma = std::min(accept_header.find(',', pos), accept_header.size());
    const std::string_view range = accept_header.substr(pos, comma - pos);
    pos = comma + 1;
    const Format f = classify_format(range);
    if (f != Format::json && f != Format::any) continue;
    // "q=0" means "not acceptable"; any other weight is acceptance.
    const std::string params = lower_trimmed(range.substr(std::min(range.find(';'), range.size())));
    const auto q = params.find("q=");
    if (q != std::string::npos) {
      const std::string_view w = std::string_view(params).substr(q + 2);
      const auto non_zero = w.find_first_not_of("0.");
      if (non_zero == std::string_view::npos || w[non_zero] == ';' || w[non_zero] == ' ') continue;
    }
    return true;
  }
  return false;
}

namespace {

void write_plain(std::string& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.get_object()) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::string(key));
        out += ':';
        write_plain(out, item);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        write_plain(out, item);
      }
      out += ']';
      return;
    }
    case json::kind::double_: {
      const double d = value.get_double();
      if (!std::isfinite(d)) {
        out += "null";
        return;
      }
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%.6f", d);
      std::string text = buffer;
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
      if (text == "-0") text = "0";
      out += text;
      return;
    }
    default:
      out += json::serialize(value);
  }
}

}  // namespace

std::string serialize_plain(const boost::json::value& value) {
  std::string out;
  write_plain(out, value);
  return out;
}

}  // namespace sas::host::fhir
