// The log of a `sas-host serve` under test, read the one way every test reads it: JSON lines
// (the default --log-format, docs/operations.md "Logs") or the text lines of --log-format text.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sas::test {

struct HostLogLine {
  std::string raw;               // the line as written, without its newline
  bool json = false;             // a JSON object; false: any other line (text format, a runner's own stderr)
  std::string level, component;  // JSON lines only
  std::string msg;               // a JSON line's msg; otherwise the raw line
  boost::json::object fields;    // a JSON line's whole object
};

// Every line of `output`, in order; a journald "<N>" priority prefix is skipped.
std::vector<HostLogLine> parse_host_log(std::string_view output);

// The URL a listener ("fhir" or "admin") of the host listens on, from its "listening on" line
// (the url field; in text, the line itself); empty when there is none (yet).
std::string listening_url(std::string_view output, std::string_view listener = "fhir");
// Its port; 0 when there is none (yet).
uint16_t listening_port(std::string_view output, std::string_view listener = "fhir");

// The log as the human lines of the text format: "sas-host: MSG" for the host's JSON lines,
// "[plugin NAME] LEVEL: MSG" for the plugin's, any other line as it is. For the tests that look
// for a message.
std::string host_log_text(std::string_view output);

}  // namespace sas::test
