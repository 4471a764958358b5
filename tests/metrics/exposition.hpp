// The Prometheus text exposition format read back, written from its description
// (prometheus.io, "Exposition formats") rather than from host/metrics: the tests' own reader.
#pragma once

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace sas::metrics_test {

// One sample line read back: name, labels, value.
struct ParsedSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Parsed {
  std::map<std::string, std::string> help, type;  // by family name
  std::vector<ParsedSample> samples;
};

// The text format as documented (prometheus.io, "Exposition formats"): "# HELP name text",
// "# TYPE name type", and `name{label="value",...} value` lines; label values unescaped (\\, \",
// \n). Throws on anything else, and on a HELP or TYPE given twice.
inline Parsed parse(const std::string& text) {
  Parsed parsed;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos) throw std::runtime_error("last line without a newline");
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const auto space = line.find(' ', 7);
      const std::string name = line.substr(7, space - 7);
      auto& table = line[2] == 'H' ? parsed.help : parsed.type;
      if (table.count(name) != 0U) throw std::runtime_error("second " + line.substr(2, 4) + " for " + name);
      table[name] = space == std::string::npos ? "" : line.substr(space + 1);
      continue;
    }
    ParsedSample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') s.name += line[i++];
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (line.at(i) != '}') {
        std::string key;
        while (line.at(i) != '=') key += line[i++];
        if (line.at(++i) != '"') throw std::runtime_error("unquoted label value: " + line);
        std::string value;
        for (++i; line.at(i) != '"'; ++i) {
          if (line[i] == '\\') {
            const char next = line.at(++i);
            if (next == 'n') {
              value += '\n';
            } else if (next == '\\' || next == '"') {
              value += next;
            } else {
              throw std::runtime_error("bad escape: " + line);
            }
          } else {
            value += line[i];
          }
        }
        ++i;
        if (line.at(i) == ',') ++i;
        if (!s.labels.emplace(key, value).second) throw std::runtime_error("label twice: " + line);
      }
      ++i;
    }
    if (line.at(i) != ' ') throw std::runtime_error("no value: " + line);
    const std::string value = line.substr(i + 1);
    if (value == "+Inf") {
      s.value = INFINITY;
    } else if (value == "-Inf") {
      s.value = -INFINITY;
    } else if (value == "NaN") {
      s.value = NAN;
    } else {
      std::size_t used = 0;
      s.value = std::stod(value, &used);
      if (used != value.size()) throw std::runtime_error("bad value: " + line);
    }
    parsed.samples.push_back(std::move(s));
  }
  return parsed;
}

// The value of the one sample `name` with exactly these labels; throws when there is none.
inline double value_of(const Parsed& parsed, const std::string& name,
                       const std::map<std::string, std::string>& labels = {}) {
  for (const auto& s : parsed.samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  throw std::runtime_error("no sample " + name);
}

inline bool has_sample(const Parsed& parsed, const std::string& name) {
  for (const auto& s : parsed.samples) {
    if (s.name == name) return true;
  }
  return false;
}

}  // namespace sas::metrics_test
