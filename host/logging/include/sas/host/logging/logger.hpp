// The host's log (docs/operations.md, "Logs"): one line per event on stderr, each written with a
// single write(2), as a JSON object
//   {"ts":"2026-12-09T15:46:00.123Z","level":"info","component":"server","msg":"...",...fields}
// or, in the text format, the human line of earlier versions ("sas-host: ..."). The modules keep
// plain string sinks (std::function<void(std::string_view)>); Logger::sink gives each one with
// its component and level.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sas::host::logging {

enum class Level { debug, info, warning, error };
std::string_view to_string(Level level);  // "debug", "info", "warning", "error"
// The syslog priority journald reads from a "<N>" line prefix: 7, 6, 4, 3.
int syslog_priority(Level level);

enum class Format { json, text };
std::optional<Format> parse_format(std::string_view name);  // "json" or "text"; else none

// Whether stderr is the journal: systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it
// connects, and stderr is that stream only if its own device and inode match (a child whose
// stderr was redirected inherits the variable, not the stream).
bool stderr_is_journal();

// The typed extra fields of a line, after the fixed ones: {{"port", 8443}, {"url", url}}.
// A field named like a fixed one (ts, level, component, msg) is written with a leading '_'.
using Fields = boost::json::object;

// A string with every byte sequence that is not UTF-8 replaced by U+FFFD: JSON is UTF-8, and a
// line a parser refuses is a line lost.
std::string valid_utf8(std::string_view text);

struct LoggerOptions {
  Format format = Format::json;
  // JSON lines start with "<N>", the syslog priority of their level, which journald (with
  // SyslogLevelPrefix=yes, its default) takes as the entry's PRIORITY and strips: set when
  // stderr_is_journal(), never otherwise (the line would no longer be JSON).
  bool syslog_prefix = false;
  // The text format's prefix of the host's own lines.
  std::string text_prefix = "sas-host: ";
  int fd = 2;
  // What time it is; none: the system clock.
  std::function<std::chrono::system_clock::time_point()> clock;
};

// Cheap to copy (copies share their options); thread-safe.
class Logger {
 public:
  explicit Logger(LoggerOptions options = {});

  // Writes one line. Never throws: a log line is not worth a request (a failed write is lost).
  void log(Level level, std::string_view component, std::string_view message, const Fields& fields = {}) const;
  void debug(std::string_view component, std::string_view message, const Fields& fields = {}) const {
    log(Level::debug, component, message, fields);
  }
  void info(std::string_view component, std::string_view message, const Fields& fields = {}) const {
    log(Level::info, component, message, fields);
  }
  void warning(std::string_view component, std::string_view message, const Fields& fields = {}) const {
    log(Level::warning, component, message, fields);
  }
  void error(std::string_view component, std::string_view message, const Fields& fields = {}) const {
    log(Level::error, component, message, fields);
  }

  // The line log() writes, newline included.
  std::string format_line(Level level, std::string_view component, std::string_view message,
                          const Fields& fields = {}) const;

  // A module's `log` option: each of its lines, with this component, level and fields.
  std::function<void(std::string_view)> sink(std::string component, Level level, Fields fields = {}) const;

  Format format() const;

 private:
  std::shared_ptr<const LoggerOptions> options_;
};

}  // namespace sas::host::logging
