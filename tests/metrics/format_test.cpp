// The Prometheus text exposition format 0.0.4 of host/metrics: compared with hand-written text,
// read back by the tests' own parser (exposition.hpp), and (one test) by
// Debian's python3-prometheus-client parser, which is not ours.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <map>
#include <sas/host/metrics/http.hpp>
#include <sas/host/metrics/process.hpp>
#include <sas/host/metrics/registry.hpp>
#include <stdexcept>
#include <thread>

#include "exposition.hpp"
#include "sas_test/support.hpp"

namespace {

namespace m = sas::host::metrics;
using sas::metrics_test::parse;
using sas::metrics_test::Parsed;
using testing::HasSubstr;

TEST(MetricsFormat, CounterGaugeAndEscapingAsWrittenByHand) {
  m::Registry registry;
  auto& requests = registry.counter("sas_test_requests_total", "Requests\\answers\nby route", {"route", "status"});
  requests.with({"search", "200"}).inc();
  requests.with({"search", "200"}).inc(2);
  requests.with({"a \"quoted\" \\ path\nnext", "503"}).inc();
  auto& level = registry.gauge("sas_test_level", "A level");
  level.with({}).set(0.25);
  registry.gauge("sas_test_unused", "Never set", {"kind"});

  EXPECT_EQ(registry.render(),
            "# HELP sas_test_requests_total Requests\\\\answers\\nby route\n"
            "# TYPE sas_test_requests_total counter\n"
            "sas_test_requests_total{route=\"a \\\"quoted\\\" \\\\ path\\nnext\",status=\"503\"} 1\n"
            "sas_test_requests_total{route=\"search\",status=\"200\"} 3\n"
            "# HELP sas_test_level A level\n"
            "# TYPE sas_test_level gauge\n"
            "sas_test_level 0.25\n"
            "# HELP sas_test_unused Never set\n"
            "# TYPE sas_test_unused gauge\n");

  const Parsed parsed = parse(registry.render());
  ASSERT_EQ(parsed.samples.size(), 3U);
  EXPECT_EQ(parsed.samples[0].labels.at("route"), "a \"quoted\" \\ path\nnext");
  EXPECT_EQ(parsed.help.at("sas_test_requests_total"), "Requests\\\\answers\\nby route");
}

TEST(MetricsFormat, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  m::Registry registry;
  auto& latency = registry.histogram("sas_test_duration_seconds", "Latency", {"route"}, {0.005, 0.1, 1});
  auto& search = latency.with({"search"});
  // Binary fractions, so that the sum is exact.
  for (double v : {0.00390625, 0.0048828125, 0.0625, 0.0625, 0.75, 3.0}) search.observe(v);
  // A value equal to a bound is in that bucket (le: less or equal).
  auto& edge = registry.histogram("sas_test_edge_seconds", "Edge", {}, {1, 2});
  edge.with({}).observe(1);

  EXPECT_EQ(registry.render(),
            "# HELP sas_test_duration_seconds Latency\n"
            "# TYPE sas_test_duration_seconds histogram\n"
            "sas_test_duration_seconds_bucket{route=\"search\",le=\"0.005\"} 2\n"
            "sas_test_duration_seconds_bucket{route=\"search\",le=\"0.1\"} 4\n"
            "sas_test_duration_seconds_bucket{route=\"search\",le=\"1\"} 5\n"
            "sas_test_duration_seconds_bucket{route=\"search\",le=\"+Inf\"} 6\n"
            "sas_test_duration_seconds_sum{route=\"search\"} 3.8837890625\n"
            "sas_test_duration_seconds_count{route=\"search\"} 6\n"
            "# HELP sas_test_edge_seconds Edge\n"
            "# TYPE sas_test_edge_seconds histogram\n"
            "sas_test_edge_seconds_bucket{le=\"1\"} 1\n"
            "sas_test_edge_seconds_bucket{le=\"2\"} 1\n"
            "sas_test_edge_seconds_bucket{le=\"+Inf\"} 1\n"
            "sas_test_edge_seconds_sum 1\n"
            "sas_test_edge_seconds_count 1\n");
}

TEST(MetricsFormat, ValuesFormattedSoTheyReadBack) {
  EXPECT_EQ(m::format_value(0), "0");
  EXPECT_EQ(m::format_value(1234567), "1234567");
  EXPECT_EQ(m::format_value(1.5e-7), "1.5e-07");
  EXPECT_EQ(m::format_value(1765000000.5), "1765000000.5");
  EXPECT_EQ(m::format_value(INFINITY), "+Inf");
  EXPECT_EQ(m::format_value(-INFINITY), "-Inf");
  EXPECT_EQ(m::format_value(NAN), "NaN");
  EXPECT_EQ(m::format_value(-3), "-3");
}

TEST(MetricsFormat, RefusesWhatPrometheusWouldRefuse) {
  m::Registry registry;
  EXPECT_THROW(registry.counter("sas-bad", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("9lives", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("sas_x_total", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("sas_y_total", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("sas_h", "x", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("sas_h2", "x", {}, {1, 1}), std::invalid_argument);
  registry.counter("sas_once_total", "x");
  EXPECT_THROW(registry.gauge("sas_once_total", "x"), std::invalid_argument);
  auto& family = registry.counter("sas_two_total", "x", {"a", "b"});
  EXPECT_THROW(family.with({"only one"}), std::invalid_argument);
}

TEST(MetricsFormat, CallbackFamiliesReadAtScrapeTimeAndAFailingOneRendersNoSample) {
  m::Registry registry;
  std::vector<std::string> errors;
  registry.on_error([&](std::string_view family, std::string_view what) {
    errors.push_back(std::string(family) + ": " + std::string(what));
  });
  int pending = 3;
  registry.callback(m::Type::gauge, "sas_test_pending", "Pending", {"state"}, [&] {
    return std::vector<m::Sample>{{{"pending"}, static_cast<double>(pending)}};
  });
  registry.callback(m::Type::gauge, "sas_test_broken", "Broken", {},
                    []() -> std::vector<m::Sample> { throw std::runtime_error("store down"); });
  int renders = 0;
  registry.before_render([&] { ++renders; });
  EXPECT_THAT(registry.render(), HasSubstr("sas_test_pending{state=\"pending\"} 3\n"));
  EXPECT_EQ(renders, 1);
  pending = 5;
  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("sas_test_pending{state=\"pending\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sas_test_broken gauge\n"));
  EXPECT_EQ(parse(text).samples.size(), 1U);
  ASSERT_EQ(errors.size(), 2U);
  EXPECT_EQ(errors[0], "sas_test_broken: store down");
}

TEST(MetricsFormat, ConcurrentUpdatesAreAllCounted) {
  m::Registry registry;
  auto& counter = registry.counter("sas_test_total", "x", {"thread"});
  auto& histogram = registry.histogram("sas_test_seconds", "x", {}, m::latency_buckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        counter.with({std::to_string(i % 3)}).inc();
        histogram.with({}).observe(t * 0.5);
      }
      (void)registry.render();
    });
  }
  for (auto& t : threads) t.join();
  double total = 0;
  double count = 0;
  for (const auto& s : parse(registry.render()).samples) {
    if (s.name == "sas_test_total") total += s.value;
    if (s.name == "sas_test_seconds_count") count = s.value;
  }
  EXPECT_EQ(total, 40000);
  EXPECT_EQ(count, 40000);
}

TEST(MetricsFormat, HttpMetricsPrecreateHandshakeReasonsAndLimitsAndCountExchanges) {
  m::Registry registry;
  m::HttpMetrics http(registry);
  http.add_listener("fhir", {"no_certificate", "unknown_ca"}, {"target_length", "body_size"});
  http.limit_refusal("fhir", "body_size");
  http.exchange("fhir", "int_r01_search", 200, std::chrono::milliseconds(30));
  http.exchange("fhir", "int_r01_search", 200, std::chrono::milliseconds(70));
  http.handshake_failure("fhir", "unknown_ca");
  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("sas_tls_handshake_failures_total{listener=\"fhir\",reason=\"no_certificate\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("sas_tls_handshake_failures_total{listener=\"fhir\",reason=\"unknown_ca\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("sas_limit_refusals_total{listener=\"fhir\",limit=\"target_length\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("sas_limit_refusals_total{listener=\"fhir\",limit=\"body_size\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("sas_http_requests_total{listener=\"fhir\",route=\"int_r01_search\",status=\"200\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "sas_http_request_duration_seconds_bucket{listener=\"fhir\",route=\"int_r01_search\",le=\"0.05\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("sas_http_request_duration_seconds_bucket{listener=\"fhir\",route=\"int_r01_search\",le=\"0.1\"} 2\n"));
}

TEST(MetricsFormat, ProcessMetricsFromProc) {
  m::Registry registry;
  m::add_process_metrics(registry);
  std::map<std::string, double> values;
  for (const auto& s : parse(registry.render()).samples) values[s.name] = s.value;
  EXPECT_GT(values.at("process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(values.at("process_cpu_seconds_total"), 0);
  EXPECT_GE(values.at("process_open_fds"), 3);
  EXPECT_GT(values.at("process_max_fds"), 0);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(values.at("process_start_time_seconds"), now + 1);
  EXPECT_GT(values.at("process_start_time_seconds"), now - 3600);
}

// Debian's python3-prometheus-client (text_string_to_metric_families) reads what we write: every
// family with its type and help, every sample with its labels and value.
TEST(MetricsFormat, PrometheusClientParserReadsTheExposition) {
  m::Registry registry;
  auto& requests = registry.counter("sas_http_requests_total", "Answers \\ by \"route\"\nand status",
                                    {"listener", "route", "status"});
  requests.with({"fhir", "int_r01_search", "200"}).inc(7);
  requests.with({"fhir", "odd \"route\" \\ with\nnewline", "400"}).inc();
  auto& latency =
      registry.histogram("sas_http_request_duration_seconds", "Latency", {"listener", "route"}, m::latency_buckets());
  latency.with({"fhir", "int_r01_search"}).observe(0.02);
  latency.with({"fhir", "int_r01_search"}).observe(8);
  registry.gauge("sas_build_info", "Build", {"version", "abi"}).with({"1.2.3", "1.5"}).set(1);
  m::add_process_metrics(registry);

  const auto dir = sas::test::make_temp_dir("metrics-python");
  sas::test::write_file(dir / "metrics.txt", registry.render());
  sas::test::write_file(dir / "read.py", R"(import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    out.append({"name": family.name, "type": family.type, "help": family.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]})
print(json.dumps(out))
)");
  const auto result = sas::test::run({SAS_DEBIAN_PYTHON3, (dir / "read.py").string(), (dir / "metrics.txt").string()});
  std::filesystem::remove_all(dir);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto families = boost::json::parse(result.out).as_array();

  std::map<std::string, boost::json::object> by_name;
  for (const auto& f : families) by_name[std::string(f.at("name").as_string())] = f.as_object();
  // The Python client names a counter family without its _total.
  const auto& counter = by_name.at("sas_http_requests");
  EXPECT_EQ(counter.at("type"), "counter");
  EXPECT_EQ(counter.at("help"), "Answers \\ by \"route\"\nand status");
  const auto& counter_samples = counter.at("samples").as_array();
  ASSERT_EQ(counter_samples.size(), 2U);
  EXPECT_EQ(counter_samples[0].at("labels").at("route"), "int_r01_search");
  EXPECT_EQ(counter_samples[0].at("value").to_number<double>(), 7);
  EXPECT_EQ(counter_samples[1].at("labels").at("route"), "odd \"route\" \\ with\nnewline");

  const auto& histogram = by_name.at("sas_http_request_duration_seconds");
  EXPECT_EQ(histogram.at("type"), "histogram");
  const auto& samples = histogram.at("samples").as_array();
  ASSERT_EQ(samples.size(), m::latency_buckets().size() + 3);  // buckets, +Inf, sum, count
  double previous = 0;
  for (std::size_t i = 0; i <= m::latency_buckets().size(); ++i) {
    EXPECT_EQ(samples[i].at("name"), "sas_http_request_duration_seconds_bucket");
    const double v = samples[i].at("value").to_number<double>();
    EXPECT_GE(v, previous);
    previous = v;
  }
  EXPECT_EQ(samples[m::latency_buckets().size()].at("labels").at("le"), "+Inf");
  EXPECT_EQ(previous, 2);
  EXPECT_EQ(samples.back().at("name"), "sas_http_request_duration_seconds_count");
  EXPECT_EQ(samples.back().at("value").to_number<double>(), 2);

  EXPECT_EQ(by_name.at("sas_build_info").at("samples").as_array()[0].at("labels").at("version"), "1.2.3");
  EXPECT_EQ(by_name.at("process_cpu_seconds").at("type"), "counter");
  EXPECT_EQ(by_name.at("process_open_fds").at("type"), "gauge");
}

}  // namespace
