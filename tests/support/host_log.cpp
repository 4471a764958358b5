#include <sas_test/host_log.hpp>

#include <boost/json.hpp>
#include <regex>

namespace sas::test {

namespace json = boost::json;

namespace {

std::string string_field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

}  // namespace

std::vector<HostLogLine> parse_host_log(std::string_view output) {
  std::vector<HostLogLine> lines;
  while (!output.empty()) {
    const auto end = output.find('\n');
    HostLogLine line;
    line.raw = std::string(output.substr(0, end));
    output.remove_prefix(end == std::string_view::npos ? output.size() : end + 1);
    std::string_view text = line.raw;
    if (text.size() > 3 && text[0] == '<' && text[1] >= '0' && text[1] <= '7' && text[2] == '>') text.remove_prefix(3);
    line.msg = line.raw;
    if (!text.empty() && text.front() == '{') {
      boost::system::error_code ec;
      json::value value = json::parse(text, ec);
      if (!ec && value.is_object()) {
        line.json = true;
        line.fields = std::move(value.as_object());
        line.level = string_field(line.fields, "level");
        line.component = string_field(line.fields, "component");
        line.msg = string_field(line.fields, "msg");
      }
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string listening_url(std::string_view output, std::string_view listener) {
  // Text: "sas-host: listening on URL (FHIR base ...)", "sas-host: admin API listening on URL".
  static const std::regex fhir_text(R"(^sas-host: listening on (\S+))");
  static const std::regex admin_text(R"(^sas-host: admin API listening on (\S+))");
  for (const auto& line : parse_host_log(output)) {
    if (line.json) {
      if (line.component == "server" && string_field(line.fields, "listener") == listener &&
          line.msg.find("listening on") != std::string::npos)
        return string_field(line.fields, "url");
      continue;
    }
    std::smatch m;
    if (std::regex_search(line.raw, m, listener == "admin" ? admin_text : fhir_text)) return m[1].str();
  }
  return {};
}

uint16_t listening_port(std::string_view output, std::string_view listener) {
  const std::string url = listening_url(output, listener);
  const auto colon = url.rfind(':');
  if (colon == std::string::npos) return 0;
  try {
    return static_cast<uint16_t>(std::stoul(url.substr(colon + 1)));
  } catch (const std::exception&) {
    return 0;
  }
}

std::string host_log_text(std::string_view output) {
  std::string text;
  for (const auto& line : parse_host_log(output)) {
    if (!line.json) {
      text += line.raw;
    } else if (line.component == "plugin") {
      text += "[plugin " + string_field(line.fields, "plugin") + "] " + line.level + ": " + line.msg;
    } else {
      text += "sas-host: " + line.msg;
    }
    text += '\n';
  }
  return text;
}

}  // namespace sas::test
