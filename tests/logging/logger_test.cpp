// host/logging: each line is one JSON object (or the text line) with its fields, whatever the
// message holds, and reaches the file descriptor in one write(2) even from many threads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <regex>
#include <sas/host/logging/access_log.hpp>
#include <sas/host/logging/logger.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace json = boost::json;
using sas::host::logging::Fields;
using sas::host::logging::Format;
using sas::host::logging::Level;
using sas::host::logging::Logger;
using sas::host::logging::LoggerOptions;
using sas::host::logging::valid_utf8;
using testing::HasSubstr;

// 2026-12-09T15:46:00.123Z
std::chrono::system_clock::time_point fixed_time() {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(1796831160123LL));
}

Logger json_logger(bool syslog_prefix = false) {
  LoggerOptions options;
  options.clock = fixed_time;
  options.syslog_prefix = syslog_prefix;
  return Logger(options);
}

// The line parsed by a strict parser (Boost.JSON refuses invalid UTF-8 and raw control characters).
json::object parse_line(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n') << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "more than one line: " << line;
  return json::parse(line).as_object();
}

TEST(Logger, JsonLineHasTheFixedFieldsThenTheTypedOnes) {
  const std::string line = json_logger().format_line(
      Level::info, "server", "listening on https://127.0.0.1:8443",
      {{"url", "https://127.0.0.1:8443"}, {"port", 8443}, {"duration_ms", 12.5}, {"tls", true}});
  const json::object o = parse_line(line);
  EXPECT_EQ(o.at("ts").as_string(), "2026-12-09T15:46:00.123Z");
  EXPECT_EQ(o.at("level").as_string(), "info");
  EXPECT_EQ(o.at("component").as_string(), "server");
  EXPECT_EQ(o.at("msg").as_string(), "listening on https://127.0.0.1:8443");
  EXPECT_EQ(o.at("url").as_string(), "https://127.0.0.1:8443");
  EXPECT_EQ(o.at("port").as_int64(), 8443);
  EXPECT_TRUE(o.at("tls").as_bool());
  // Durations in plain decimal, not 1.25E1.
  EXPECT_THAT(line, HasSubstr("\"duration_ms\":12.5"));
  // The fixed fields first, in this order.
  EXPECT_EQ(line.rfind("{\"ts\":", 0), 0U) << line;
  EXPECT_LT(line.find("\"level\""), line.find("\"component\""));
  EXPECT_LT(line.find("\"component\""), line.find("\"msg\""));
  EXPECT_LT(line.find("\"msg\""), line.find("\"url\""));
}

TEST(Logger, EveryLevelByName) {
  const Logger logger = json_logger();
  for (const auto& [level, name] : {std::pair{Level::debug, "debug"}, std::pair{Level::info, "info"},
                                    std::pair{Level::warning, "warning"}, std::pair{Level::error, "error"}}) {
    EXPECT_EQ(parse_line(logger.format_line(level, "runtime", "x")).at("level").as_string(), name);
  }
}

TEST(Logger, QuotesNewlinesAndControlCharactersAreEscaped) {
  const std::string message = "a \"quoted\" \\ back\nslash\r\ttab \x01\x1f end";
  const std::string line = json_logger().format_line(Level::warning, "plugin", message, {{"detail", message}});
  const json::object o = parse_line(line);
  EXPECT_EQ(o.at("msg").as_string(), message);
  EXPECT_EQ(o.at("detail").as_string(), message);
  EXPECT_THAT(line, HasSubstr(R"(a \"quoted\" \\ back\nslash\r\ttab \u0001\u001f end)"));
}

TEST(Logger, InvalidUtf8BecomesReplacementCharacters) {
  // A stray continuation byte, a truncated sequence, an overlong '/', a UTF-16 surrogate, a byte
  // that never appears in UTF-8, and a 4-byte sequence cut at the end.
  const std::string message = std::string("caf\xC3\xA9 \x80 \xC3 \xC0\xAF \xED\xA0\x80 \xFF \xF0\x9F\x98");
  const std::string line =
      json_logger().format_line(Level::error, "plugin", message, {{"nested", json::array{message}}, {"\xFF", 1}});
  const json::object o = parse_line(line);  // would throw on invalid UTF-8
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(std::string(o.at("msg").as_string()),
            "caf\xC3\xA9 " + r + " " + r + " " + r + r + " " + r + r + r + " " + r + " " + r + r + r);
  EXPECT_EQ(o.at("nested").as_array().at(0).as_string(), o.at("msg").as_string());
  EXPECT_TRUE(o.contains(r));
}

TEST(Logger, ValidUtf8IsKeptAsIs) {
  const std::string text = "Médecins € 𝄞 \x7f ascii";
  EXPECT_EQ(valid_utf8(text), text);
  EXPECT_EQ(valid_utf8(""), "");
  EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // > U+10FFFF
}

TEST(Logger, AFieldNamedLikeAFixedOneDoesNotReplaceIt) {
  const json::object o =
      parse_line(json_logger().format_line(Level::info, "access", "m", {{"msg", "other"}, {"level", 1}}));
  EXPECT_EQ(o.at("msg").as_string(), "m");
  EXPECT_EQ(o.at("level").as_string(), "info");
  EXPECT_EQ(o.at("_msg").as_string(), "other");
  EXPECT_EQ(o.at("_level").as_int64(), 1);
}

TEST(Logger, JournalPrefixCarriesTheSyslogPriority) {
  const Logger logger = json_logger(/*syslog_prefix=*/true);
  for (const auto& [level, prefix] : {std::pair{Level::debug, "<7>{"}, std::pair{Level::info, "<6>{"},
                                      std::pair{Level::warning, "<4>{"}, std::pair{Level::error, "<3>{"}}) {
    const std::string line = logger.format_line(level, "runtime", "x");
    EXPECT_EQ(line.rfind(prefix, 0), 0U) << line;
    EXPECT_NO_THROW(json::parse(line.substr(3)));
  }
}

TEST(Logger, TextFormatIsTheHumanLineOnOneLine) {
  LoggerOptions options;
  options.format = Format::text;
  const Logger logger(options);
  EXPECT_EQ(logger.format_line(Level::info, "server", "listening on https://h:1", {{"port", 1}}),
            "sas-host: listening on https://h:1\n");
  EXPECT_EQ(logger.format_line(Level::warning, "plugin", "two\nlines", {{"plugin", "sqlite-agenda"}}),
            "[plugin sqlite-agenda] warning: two\\nlines\n");
}

TEST(Logger, StderrIsTheJournalOnlyWhenJournalStreamNamesIt) {
  struct stat st {};
  ASSERT_EQ(fstat(STDERR_FILENO, &st), 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
  EXPECT_TRUE(sas::host::logging::stderr_is_journal());
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  ::setenv("JOURNAL_STREAM", other.c_str(), 1);
  EXPECT_FALSE(sas::host::logging::stderr_is_journal());
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(sas::host::logging::stderr_is_journal());
}

TEST(Logger, ParsesTheFormatKey) {
  EXPECT_EQ(sas::host::logging::parse_format("json"), Format::json);
  EXPECT_EQ(sas::host::logging::parse_format("text"), Format::text);
  EXPECT_FALSE(sas::host::logging::parse_format("JSON"));
  EXPECT_FALSE(sas::host::logging::parse_format(""));
}

// A SOCK_SEQPACKET socket keeps the boundaries of each write(2): every message received is what
// one write sent. Lines longer than PIPE_BUF, from many threads at once, each arrive whole, in one
// message.
TEST(Logger, OneWritePerLineUnderConcurrency) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
  int buffer = 1 << 20;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  LoggerOptions options;
  options.fd = fds[0];
  const Logger logger(options);
  constexpr int kThreads = 8, kLines = 100;
  const std::string long_text(6000, 'x');  // > PIPE_BUF (4096)

  std::vector<std::string> received;
  std::thread reader([&] {
    std::string message(1 << 16, '\0');
    for (;;) {
      const ssize_t n = recv(fds[1], message.data(), message.size(), 0);
      if (n <= 0) return;
      received.emplace_back(message.data(), static_cast<std::size_t>(n));
    }
  });
  std::vector<std::thread> writers;
  const auto sink = logger.sink("delivery", Level::warning, {{"worker", "sink"}});
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kLines; ++i) {
        if (i % 2 == 0) {
          logger.info("server", long_text, {{"thread", t}, {"line", i}});
        } else {
          sink("line " + std::to_string(i) + " of thread " + std::to_string(t));
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  shutdown(fds[0], SHUT_WR);
  reader.join();
  close(fds[0]);
  close(fds[1]);

  ASSERT_EQ(received.size(), static_cast<std::size_t>(kThreads * kLines));
  std::vector<int> per_thread(kThreads, 0);
  for (const auto& message : received) {
    const json::object o = parse_line(message);
    if (o.at("component").as_string() == "server") {
      EXPECT_EQ(o.at("msg").as_string(), long_text);
      ++per_thread.at(static_cast<std::size_t>(o.at("thread").as_int64()));
    } else {
      EXPECT_EQ(o.at("level").as_string(), "warning");
      EXPECT_EQ(o.at("worker").as_string(), "sink");
    }
  }
  for (int count : per_thread) EXPECT_EQ(count, kLines / 2);
}

// What on_exchange gets, through a pipe, as the access line.
json::object access_line(const sas::host::server::Exchange& exchange) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  LoggerOptions options;
  options.fd = fds[1];
  sas::host::logging::access_log(Logger(options), "fhir")(exchange);
  close(fds[1]);
  std::string line(1 << 16, '\0');
  const ssize_t n = read(fds[0], line.data(), line.size());
  close(fds[0]);
  line.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return parse_line(line);
}

TEST(AccessLog, OneLinePerAnswerWithoutTheQuery) {
  sas::host::server::ClientSubject client{"sas.sante.fr", "SAS"};
  sas::host::server::Exchange exchange;
  exchange.id = "0123456789abcdef";
  exchange.route = "int_r02_update";
  exchange.method = "PUT";
  // A conditional update names the regulator in its query: never logged.
  exchange.target = "/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1%7C810002673899";
  exchange.status = 200;
  exchange.duration = std::chrono::microseconds(12345);
  exchange.body_bytes = 321;
  exchange.client = &client;
  exchange.remote = "127.0.0.1:5555";
  const json::object o = access_line(exchange);
  EXPECT_EQ(o.at("component").as_string(), "access");
  EXPECT_EQ(o.at("level").as_string(), "info");
  EXPECT_EQ(o.at("msg").as_string(), "PUT /Practitioner 200");
  EXPECT_EQ(o.at("request_id").as_string(), "0123456789abcdef");
  EXPECT_EQ(o.at("listener").as_string(), "fhir");
  EXPECT_EQ(o.at("route").as_string(), "int_r02_update");
  EXPECT_EQ(o.at("method").as_string(), "PUT");
  EXPECT_EQ(o.at("path").as_string(), "/Practitioner");
  EXPECT_EQ(o.at("status").as_int64(), 200);
  EXPECT_DOUBLE_EQ(o.at("duration_ms").as_double(), 12.345);
  EXPECT_EQ(o.at("bytes").to_number<int64_t>(), 321);
  EXPECT_EQ(o.at("client").as_string(), "CN=sas.sante.fr,OU=SAS");
  EXPECT_EQ(o.at("remote").as_string(), "127.0.0.1:5555");
  EXPECT_FALSE(o.contains("aborted"));
  EXPECT_EQ(json::serialize(o).find("810002673899"), std::string::npos);
}

TEST(AccessLog, AServerErrorIsAWarningAndAnUnreadRequestHasNoMethod) {
  sas::host::server::ClientSubject nobody;
  sas::host::server::Exchange exchange;
  exchange.id = "fedcba9876543210";
  exchange.route = "other";
  exchange.status = 503;
  exchange.client = &nobody;
  exchange.written = false;
  const json::object o = access_line(exchange);
  EXPECT_EQ(o.at("level").as_string(), "warning");
  EXPECT_EQ(o.at("msg").as_string(), "- - 503");
  EXPECT_FALSE(o.contains("client"));
  EXPECT_TRUE(o.at("aborted").as_bool());
}

}  // namespace
