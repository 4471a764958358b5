#include "sas/sdk/reporter.hpp"

#include <algorithm>

namespace sas::sdk::reporter {

Verdict verdict(const Status& host_status) {
  switch (host_status.code()) {
    case SAS_OK:
      return Verdict::accepted;
    case SAS_ERR_INVALID_ARGUMENT:
    case SAS_ERR_NOT_FOUND:
      return Verdict::refused;
    default:
      return Verdict::retry_later;
  }
}

void Round::pause(std::string reason) {
  if (paused_) return;
  paused_ = true;
  pause_reason_ = std::move(reason);
  host_.log(LogLevel::warning, stream_ + " paused: " + pause_reason_);
}

bool Round::settle(std::string_view label, const Status& status, const std::function<void()>& accepted,
                   const std::function<void(const std::string&)>& refused) {
  const Verdict v = verdict(status);
  if (v == Verdict::retry_later) {
    pause(std::string(label) + ": " + status.message());
    return false;
  }
  // The host has answered for good: only a failure of the vendor's own mark keeps the row pending.
  try {
    if (v == Verdict::accepted) {
      accepted();
      ++accepted_;
    } else {
      refused(status.message());
      ++refused_;
      host_.log(LogLevel::warning, std::string(label) + " refused by the host: " + status.message());
    }
  } catch (const std::exception& e) {
    pause(std::string(label) + " could not be marked " + (v == Verdict::accepted ? "done" : "refused") +
          " (it will be sent again): " + e.what());
    return false;
  }
  return true;
}

std::chrono::milliseconds next_wait(const Options& options, int paused_in_a_row) {
  const auto interval = std::max(options.interval, std::chrono::milliseconds(1));
  const auto ceiling = std::max(interval, options.max_backoff);
  auto wait = interval;
  for (int i = 1; i < paused_in_a_row && wait < ceiling; ++i) wait *= 2;
  return std::min(wait, ceiling);
}

void Reporter::add_stream(std::string name, Stream stream) {
  streams_.push_back({std::move(name), std::move(stream), 0, {}});
}

void Reporter::start(const Host& host, Options options, std::function<bool()> may_report) {
  if (thread_.joinable()) return;
  host_ = &host;
  options_ = options;
  may_report_ = std::move(may_report);
  stopping_ = false;
  const auto now = std::chrono::steady_clock::now();
  for (Entry& entry : streams_) entry.due = now;
  thread_ = std::thread([this] { run(); });
}

void Reporter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Reporter::run() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    bool may = true;
    try {
      may = !may_report_ || may_report_();
    } catch (const std::exception& e) {
      host_->log(LogLevel::warning, std::string("reporting: ") + e.what());
      may = false;
    }
    auto next = Clock::now() + std::max(options_.interval, std::chrono::milliseconds(1));
    for (Entry& entry : streams_) {
      if (stopping_) break;
      if (!may) continue;
      if (entry.due > Clock::now()) {
        next = std::min(next, entry.due);
        continue;
      }
      Round round(*host_, entry.name, &stopping_);
      try {
        entry.stream(round);
      } catch (const std::exception& e) {
        round.pause(e.what());  // e.g. the pending rows could not be read: try again later
      } catch (...) {
        round.pause("an unknown exception");
      }
      entry.paused_in_a_row = round.paused() && !stopping_ ? entry.paused_in_a_row + 1 : 0;
      entry.due = Clock::now() + next_wait(options_, entry.paused_in_a_row);
      next = std::min(next, entry.due);
    }
    lock.lock();
    wake_.wait_until(lock, next, [this] { return stopping_.load(); });
  }
}

}  // namespace sas::sdk::reporter
