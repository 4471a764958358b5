#include <sas/host/logging/logger.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <sas/host/fhir/json.hpp>

namespace sas::host::logging {

namespace json = boost::json;

std::string_view to_string(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warning:
      return "warning";
    case Level::error:
      return "error";
  }
  return "error";
}

int syslog_priority(Level level) {
  switch (level) {
    case Level::debug:
      return 7;
    case Level::info:
      return 6;
    case Level::warning:
      return 4;
    case Level::error:
      return 3;
  }
  return 3;
}

std::optional<Format> parse_format(std::string_view name) {
  if (name == "json") return Format::json;
  if (name == "text") return Format::text;
  return std::nullopt;
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == device && static_cast<unsigned long long>(st.st_ino) == inode;
}

std::string valid_utf8(std::string_view text) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // The length of the sequence and the range of its second byte (RFC 3629: no overlong
    // forms, no surrogates, nothing above U+10FFFF).
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    }
    bool ok = length != 0 && i + length <= n && s[i + 1] >= low && s[i + 1] <= high;
    for (std::size_t k = 2; ok && k < length; ++k) ok = s[i + k] >= 0x80 && s[i + k] <= 0xBF;
    if (ok) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

namespace {

bool is_fixed_key(std::string_view key) { return key == "ts" || key == "level" || key == "component" || key == "msg"; }

json::value valid_value(const json::value& value) {
  switch (value.kind()) {
    case json::kind::string:
      return json::string(valid_utf8(value.get_string()));
    case json::kind::array: {
      json::array out;
      for (const auto& item : value.get_array()) out.push_back(valid_value(item));
      return out;
    }
    case json::kind::object: {
      json::object out;
      for (const auto& [key, item] : value.get_object()) out[valid_utf8(key)] = valid_value(item);
      return out;
    }
    default:
      return value;
  }
}

// RFC 3339, UTC, milliseconds: 2026-12-09T15:46:00.123Z.
std::string timestamp(std::chrono::system_clock::time_point now) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  const int millis = static_cast<int>(((ms % 1000) + 1000) % 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> buffer{};
  const std::size_t length = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%S", &utc);
  std::string out(buffer.data(), length);
  out += '.';
  out += static_cast<char>('0' + millis / 100);
  out += static_cast<char>('0' + millis / 10 % 10);
  out += static_cast<char>('0' + millis % 10);
  out += 'Z';
  return out;
}

// The text format keeps a line one line: control characters are shown escaped.
std::string one_text_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      std::array<char, 8> hex{};
      std::snprintf(hex.data(), hex.size(), "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += hex.data();
    } else {
      out += c;
    }
  }
  return out;
}

// One write(2) per line, under a lock shared by every Logger: a pipe only guarantees atomic
// writes up to PIPE_BUF (4096 bytes), and a longer line written by one thread while another
// writes must still come out whole. A short write (a signal, a full disk) is resumed.
void write_whole(int fd, std::string_view line) {
  static std::mutex writing;
  std::lock_guard lock(writing);
  while (!line.empty()) {
    const ssize_t written = ::write(fd, line.data(), line.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to say so
    }
    line.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace

Logger::Logger(LoggerOptions options) : options_(std::make_shared<const LoggerOptions>(std::move(options))) {}

Format Logger::format() const { return options_->format; }

std::string Logger::format_line(Level level, std::string_view component, std::string_view message,
                                const Fields& fields) const {
  const LoggerOptions& o = *options_;
  if (o.format == Format::text) {
    // The lines of earlier versions: "sas-host: MESSAGE", and the plugin's "[plugin NAME] LEVEL: MESSAGE".
    std::string line;
    if (component == "plugin") {
      const auto* name = fields.if_contains("plugin");
      line = "[plugin " + std::string(name != nullptr && name->is_string() ? name->get_string() : "") + "] " +
             std::string(to_string(level)) + ": ";
    } else {
      line = o.text_prefix;
    }
    line += one_text_line(message);
    line += '\n';
    return line;
  }
  json::object object;
  object.reserve(4 + fields.size());
  object["ts"] = timestamp(o.clock ? o.clock() : std::chrono::system_clock::now());
  object["level"] = to_string(level);
  object["component"] = valid_utf8(component);
  object["msg"] = valid_utf8(message);
  for (const auto& [key, value] : fields) {
    const std::string name = valid_utf8(key);
    object[is_fixed_key(name) ? "_" + name : name] = valid_value(value);
  }
  std::string line;
  if (o.syslog_prefix) line = "<" + std::to_string(syslog_priority(level)) + ">";
  line += fhir::serialize_plain(object);
  line += '\n';
  return line;
}

void Logger::log(Level level, std::string_view component, std::string_view message, const Fields& fields) const {
  try {
    write_whole(options_->fd, format_line(level, component, message, fields));
  } catch (...) {
    // Out of memory formatting a line: the line is lost, the caller goes on.
  }
}

std::function<void(std::string_view)> Logger::sink(std::string component, Level level, Fields fields) const {
  return [logger = *this, component = std::move(component), level, fields = std::move(fields)](std::string_view line) {
    logger.log(level, component, line, fields);
  };
}

}  // namespace sas::host::logging
