#include "sas/host/appointment_notifications/outbox.hpp"

#include <chrono>

#include "sas/host/fhir/json.hpp"
#include "sas/sdk/datetime.hpp"

namespace sas::host::appointment_notifications {

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += "\n";
    out += line;
  }
  return out;
}

}  // namespace

InvalidEvent::InvalidEvent(const std::vector<std::string>& problems)
    : std::invalid_argument(join_lines(problems)), problems_(problems) {}

Outbox::Outbox(std::shared_ptr<OutboxRepository> repository) : repository_(std::move(repository)) {
  committer_ = std::thread([this] { commit_loop(); });
}

Outbox::~Outbox() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  committer_.join();
}

Reported Outbox::report(Event event) {
  std::vector<Event> one;
  one.push_back(std::move(event));
  return report(std::move(one)).front();
}

std::vector<Reported> Outbox::report(std::vector<Event> events) {
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < events.size(); ++i) {
    for (auto& p : check(events[i]))
      problems.push_back(events.size() == 1 ? p : "event " + std::to_string(i + 1) + ": " + p);
  }
  if (!problems.empty()) throw InvalidEvent(problems);
  std::vector<std::future<NotificationIds>> done;
  std::deque<Waiting> waiting(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& event = events[i];
    NotificationInput& input = waiting[i].input;
    input.appointment_key = appointment_key(event);
    input.event = std::string(to_string(event.type));
    input.event_json = boost::json::serialize(to_json(event));
    input.resource = fhir::serialize(build_resource(event));
    input.reported_at = std::chrono::system_clock::now();
    done.push_back(waiting[i].done.get_future());
  }
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw store::StoreError("the outbox is stopping; report the event again");
    for (auto& w : waiting) queue_.push_back(std::move(w));
  }
  wake_.notify_one();
  std::vector<Reported> reported;
  reported.reserve(done.size());
  for (auto& d : done) {
    const NotificationIds ids = d.get();  // rethrows the StoreError of a failed commit
    reported.push_back({ids.id, ids.sequence});
  }
  return reported;
}

Reported Outbox::report(const sas::plugin::v1::AppointmentEvent& message) {
  std::string error;
  std::optional<Event> event = from_proto(message, &error);
  if (!event) throw InvalidEvent({error});
  return report(std::move(*event));
}

// One transaction for everything queued at the moment the previous one finished.
void Outbox::commit_loop() {
  for (;;) {
    std::deque<Waiting> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      constexpr std::size_t kMaxBatch = 4096;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<NotificationInput> inputs;
    inputs.reserve(batch.size());
    for (auto& w : batch) inputs.push_back(std::move(w.input));
    try {
      const std::vector<NotificationIds> ids = repository_->enqueue(inputs);
      for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(ids[i]);
    } catch (...) {
      for (auto& w : batch) w.done.set_exception(std::current_exception());
      continue;
    }
    if (on_committed_) on_committed_();
  }
}

std::string sos_association_siret(const Notification& n) {
  boost::system::error_code ec;
  const boost::json::value event = boost::json::parse(n.event_json, ec);
  if (ec || !event.is_object()) return {};
  const auto* siret = event.get_object().if_contains("sos_association_siret");
  return siret != nullptr && siret->is_string() ? std::string(siret->get_string()) : std::string();
}

boost::json::object to_json(const Notification& n) {
  namespace json = boost::json;
  json::object row{
      {"id", n.id},
      {"appointment", n.appointment_key},
      {"sequence", n.sequence},
      {"event", n.event},
      {"state", n.state},
      {"reported_at", sas::sdk::datetime::format_utc(std::chrono::floor<std::chrono::milliseconds>(n.reported_at))},
      {"attempts", n.attempts},
      {"method", n.method},
      {"http_status", n.http_status},
      {"error", n.last_error}};
  if (std::string siret = sos_association_siret(n); !siret.empty()) row["sos_association_siret"] = siret;
  boost::system::error_code ec;
  json::value outcome = json::parse(n.outcome, ec);
  if (ec) {
    row["outcome"] = n.outcome;
  } else {
    row["outcome"] = std::move(outcome);
  }
  return row;
}

}  // namespace sas::host::appointment_notifications
