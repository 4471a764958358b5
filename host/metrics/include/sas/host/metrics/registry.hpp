// The host's metrics, rendered in the Prometheus text exposition format 0.0.4 (what `GET
// /metrics` on the admin listener answers; docs/operations.md, "Monitor"). Written here rather
// than taken from prometheus-cpp, which Debian bookworm does not package; the format is small.
//
// A family is a metric name with its HELP text, its type and its label names; a series is one
// set of label values. Updating a series is lock-free (atomics); a family's mutex is taken
// shared to find a series and exclusively only when a new set of label values appears. Callers
// on a hot path may keep the reference `with` returns: series live as long as the registry.
// Values read at scrape time (counts in the store, process figures) are callback families.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sas::host::metrics {

// What GET /metrics answers with.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class Type { counter, gauge, histogram };
std::string_view to_string(Type type);  // "counter", "gauge", "histogram"

// "1", "1000000", "0.25", "1.5e-07", "+Inf", "-Inf", "NaN": whole numbers as integers, others in
// the shortest text that reads back as `value`.
std::string format_value(double value);
// A label value as written between the quotes: '\' -> "\\", '"' -> "\"", newline -> "\n".
std::string escape_label_value(std::string_view value);
// HELP text: '\' -> "\\", newline -> "\n".
std::string escape_help(std::string_view help);

class Counter {
 public:
  void inc(double amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, increasing; +Inf is implicit.
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (= count)
    double sum = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // not cumulative: one per bound, then +Inf
  std::atomic<double> sum_{0};
};

// The label values of one series, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

class Family {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names);
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // HELP, TYPE and every sample.
  void render(std::string& out) const;

 protected:
  // The samples, after HELP and TYPE.
  virtual void render_samples(std::string& out) const = 0;
  // `name{a="x",b="y"} value` (extra: one more label, e.g. le, after the family's).
  void sample(std::string& out, std::string_view suffix, const LabelValues& values, double value,
              std::string_view extra_name = {}, std::string_view extra_value = {}) const;
  // Throws std::invalid_argument unless `values` has one value per label name.
  void check_arity(std::size_t count) const;

 private:
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> label_names_;
};

// A family whose series are created on first use and updated in place.
template <class Series>
class SeriesFamily : public Family {
 public:
  using Family::Family;

  // The series of these label values (one per label name), created at 0 on first use.
  Series& with(std::initializer_list<std::string_view> values) { return with(values.begin(), values.size()); }
  Series& with(const std::vector<std::string_view>& values) { return with(values.data(), values.size()); }

 protected:
  virtual std::unique_ptr<Series> make_series() const = 0;
  virtual void render_series(std::string& out, const LabelValues& values, const Series& series) const = 0;

  void render_samples(std::string& out) const override {
    std::shared_lock lock(mutex_);
    for (const auto& [key, entry] : series_) render_series(out, entry.values, *entry.series);
  }

 private:
  Series& with(const std::string_view* values, std::size_t count) {
    check_arity(count);
    thread_local std::string key;
    key.clear();
    for (std::size_t i = 0; i < count; ++i) {
      key.append(values[i]);
      key.push_back('\xff');  // never in UTF-8 text: keys of different label values differ
    }
    {
      std::shared_lock lock(mutex_);
      if (auto it = series_.find(key); it != series_.end()) return *it->second.series;
    }
    std::unique_lock lock(mutex_);
    auto [it, inserted] = series_.try_emplace(key);
    if (inserted) {
      it->second.values.assign(values, values + count);
      it->second.series = make_series();
    }
    return *it->second.series;
  }

  struct Entry {
    LabelValues values;
    std::unique_ptr<Series> series;
  };
  mutable std::shared_mutex mutex_;
  std::map<std::string, Entry, std::less<>> series_;  // by label values: a stable order
};

class CounterFamily final : public SeriesFamily<Counter> {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names)
      : SeriesFamily(std::move(name), std::move(help), Type::counter, std::move(label_names)) {}

 private:
  std::unique_ptr<Counter> make_series() const override { return std::make_unique<Counter>(); }
  void render_series(std::string& out, const LabelValues& values, const Counter& series) const override;
};

class GaugeFamily final : public SeriesFamily<Gauge> {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
      : SeriesFamily(std::move(name), std::move(help), Type::gauge, std::move(label_names)) {}

 private:
  std::unique_ptr<Gauge> make_series() const override { return std::make_unique<Gauge>(); }
  void render_series(std::string& out, const LabelValues& values, const Gauge& series) const override;
};

class HistogramFamily final : public SeriesFamily<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds);
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::unique_ptr<Histogram> make_series() const override { return std::make_unique<Histogram>(bounds_); }
  void render_series(std::string& out, const LabelValues& values, const Histogram& series) const override;
  std::vector<double> bounds_;
};

// One sample of a callback family.
struct Sample {
  LabelValues values;
  double value = 0;
};
// Called at each scrape, from the scraping thread; may throw (the family is then rendered
// without samples, and `on_error` of the registry is told).
using Collect = std::function<std::vector<Sample>()>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each name once per registry (std::invalid_argument otherwise, and for a name or label name
  // that Prometheus would refuse). Families render in the order they were added.
  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  HistogramFamily& histogram(std::string name, std::string help, std::vector<std::string> label_names,
                             std::vector<double> bounds);
  // A counter or gauge whose samples `collect` gives at each scrape.
  void callback(Type type, std::string name, std::string help, std::vector<std::string> label_names, Collect collect);

  // Called at the start of each render, before any callback family: e.g. to forget what the
  // previous scrape read, when one query feeds several families.
  void before_render(std::function<void()> hook);

  // A callback that threw: its family and what it said (e.g. to log it). None: ignored.
  void on_error(std::function<void(std::string_view family, std::string_view what)> sink);

  // Every family, in the text exposition format 0.0.4.
  std::string render() const;

 private:
  template <class F, class... Args>
  F& add(Args&&... args);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
  std::vector<std::function<void()>> before_render_;
  std::function<void(std::string_view, std::string_view)> on_error_;
};

// Buckets for latencies against the SAS platform's 7 s timeout: 5 ms ... 10 s.
const std::vector<double>& latency_buckets();

}  // namespace sas::host::metrics
