#include "sas/host/metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace sas::host::metrics {

namespace {

bool is_name_start(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

bool is_name_char(char c, bool colon) { return is_name_start(c, colon) || (c >= '0' && c <= '9'); }

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: [a-zA-Z_][a-zA-Z0-9_]*, not "__..." (reserved).
bool valid_name(std::string_view name, bool metric) {
  if (name.empty() || !is_name_start(name[0], metric)) return false;
  if (!metric && name.substr(0, 2) == "__") return false;
  return std::all_of(name.begin(), name.end(), [metric](char c) { return is_name_char(c, metric); });
}

class CallbackFamily final : public Family {
 public:
  CallbackFamily(std::string name, std::string help, Type type, std::vector<std::string> label_names, Collect collect,
                 const std::function<void(std::string_view, std::string_view)>& on_error)
      : Family(std::move(name), std::move(help), type, std::move(label_names)),
        collect_(std::move(collect)),
        on_error_(on_error) {}

 private:
  void render_samples(std::string& out) const override {
    std::string samples;
    try {
      for (const auto& s : collect_()) {
        check_arity(s.values.size());
        sample(samples, {}, s.values, s.value);
      }
    } catch (const std::exception& e) {
      if (on_error_) on_error_(name(), e.what());
      return;  // none rather than some: a partial family would lie
    }
    out += samples;
  }

  Collect collect_;
  const std::function<void(std::string_view, std::string_view)>& on_error_;
};

}  // namespace

std::string_view to_string(Type type) {
  switch (type) {
    case Type::counter:
      return "counter";
    case Type::gauge:
      return "gauge";
    case Type::histogram:
      return "histogram";
  }
  return "untyped";
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  // Whole numbers (counts, bytes, timestamps) as integers, which read better than 1.234567e+06.
  if (std::fabs(value) < 9007199254740992.0 && value == std::trunc(value)) {
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, static_cast<int64_t>(value));
    if (ec == std::errc()) return std::string(buffer, end);
  }
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) return "NaN";
  return std::string(buffer, end);
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {
  for (std::size_t i = 0; i <= bounds.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  // The first bucket whose upper bound holds the value ("le": less than or equal).
  const auto bucket =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

Family::Family(std::string name, std::string help, Type type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
  if (!valid_name(name_, true)) throw std::invalid_argument("metric name '" + name_ + "' is not a Prometheus name");
  for (const auto& label : label_names_) {
    if (!valid_name(label, false))
      throw std::invalid_argument("metric " + name_ + ": label name '" + label + "' is not a Prometheus label name");
    if (type_ == Type::histogram && label == "le")
      throw std::invalid_argument("metric " + name_ + ": a histogram cannot have a label named le");
    if (std::count(label_names_.begin(), label_names_.end(), label) > 1)
      throw std::invalid_argument("metric " + name_ + ": label name '" + label + "' given twice");
  }
}

void Family::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escape_help(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += to_string(type_);
  out += '\n';
  render_samples(out);
}

void Family::sample(std::string& out, std::string_view suffix, const LabelValues& values, double value,
                    std::string_view extra_name, std::string_view extra_value) const {
  out += name_;
  out += suffix;
  if (!values.empty() || !extra_name.empty()) {
    out += '{';
    bool first = true;
    auto label = [&](std::string_view name, std::string_view text) {
      if (!first) out += ',';
      first = false;
      out += name;
      out += "=\"";
      out += escape_label_value(text);
      out += '"';
    };
    for (std::size_t i = 0; i < values.size(); ++i) label(label_names_[i], values[i]);
    if (!extra_name.empty()) label(extra_name, extra_value);
    out += '}';
  }
  out += ' ';
  out += format_value(value);
  out += '\n';
}

void Family::check_arity(std::size_t count) const {
  if (count != label_names_.size())
    throw std::invalid_argument("metric " + name_ + ": " + std::to_string(count) + " label values for " +
                                std::to_string(label_names_.size()) + " label names");
}

void CounterFamily::render_series(std::string& out, const LabelValues& values, const Counter& series) const {
  sample(out, {}, values, series.value());
}

void GaugeFamily::render_series(std::string& out, const LabelValues& values, const Gauge& series) const {
  sample(out, {}, values, series.value());
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds)
    : SeriesFamily(std::move(name), std::move(help), Type::histogram, std::move(label_names)),
      bounds_(std::move(bounds)) {
  if (bounds_.empty()) throw std::invalid_argument("histogram " + this->name() + ": no bucket");
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1]))
      throw std::invalid_argument("histogram " + this->name() + ": bucket bounds must be finite and increasing");
  }
}

void HistogramFamily::render_series(std::string& out, const LabelValues& values, const Histogram& series) const {
  const Histogram::Snapshot s = series.snapshot();
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    sample(out, "_bucket", values, static_cast<double>(s.cumulative[i]), "le", format_value(bounds_[i]));
  sample(out, "_bucket", values, static_cast<double>(s.cumulative.back()), "le", "+Inf");
  sample(out, "_sum", values, s.sum);
  sample(out, "_count", values, static_cast<double>(s.cumulative.back()));
}

template <class F, class... Args>
F& Registry::add(Args&&... args) {
  auto family = std::make_unique<F>(std::forward<Args>(args)...);
  F& added = *family;
  std::lock_guard lock(mutex_);
  for (const auto& f : families_) {
    if (f->name() == added.name()) throw std::invalid_argument("metric " + added.name() + " registered twice");
  }
  families_.push_back(std::move(family));
  return added;
}

CounterFamily& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  return add<CounterFamily>(std::move(name), std::move(help), std::move(label_names));
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return add<GaugeFamily>(std::move(name), std::move(help), std::move(label_names));
}

HistogramFamily& Registry::histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  return add<HistogramFamily>(std::move(name), std::move(help), std::move(label_names), std::move(bounds));
}

void Registry::callback(Type type, std::string name, std::string help, std::vector<std::string> label_names,
                        Collect collect) {
  if (type == Type::histogram) throw std::invalid_argument("metric " + name + ": no callback histograms");
  add<CallbackFamily>(std::move(name), std::move(help), type, std::move(label_names), std::move(collect), on_error_);
}

void Registry::on_error(std::function<void(std::string_view, std::string_view)> sink) {
  std::lock_guard lock(mutex_);
  on_error_ = std::move(sink);
}

void Registry::before_render(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  before_render_.push_back(std::move(hook));
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& hook : before_render_) hook();
  for (const auto& family : families_) family->render(out);
  return out;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7, 10};
  return buckets;
}

}  // namespace sas::host::metrics
