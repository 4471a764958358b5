// The reporter's policy (sas/sdk/reporter.hpp) against a scripted host: the real sas::sdk::Host
// over a sas_host_api table whose call_host answers what each test scripts (an outage, then
// acceptance; a refusal), which the real host cannot be made to do on cue. The expectations come
// from docs/abi.md's host statuses: accepted rows are marked once, refused ones keep the host's
// message and are never sent again, anything else leaves the row pending, stops its stream in
// order, and is retried later with a growing wait.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sas/sdk/reporter.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
namespace rp = sas::sdk::reporter;
using namespace std::chrono_literals;
using testing::ElementsAre;
using testing::HasSubstr;

struct Answer {
  sas_status status = SAS_OK;
  std::string message;
};

// A host whose call_host runs `handler`; the SDK's Host speaks to it through the C table.
class ScriptedHost {
 public:
  using Handler = std::function<Answer(const v1::HostRequest&, v1::HostResponse&)>;

  ScriptedHost() {
    api_.struct_size = sizeof(sas_host_api);
    api_.abi_version = SAS_ABI_VERSION;
    api_.host_context = this;
    api_.log = [](void* context, int32_t, const char* message, size_t size) {
      auto* self = static_cast<ScriptedHost*>(context);
      std::lock_guard lock(self->mutex_);
      self->logs_.emplace_back(message, size);
    };
    api_.now_unix_micros = [](void*) -> int64_t { return 0; };
    api_.call_host = [](void* context, const uint8_t* data, size_t size, sas_bytes* out) -> sas_status {
      auto* self = static_cast<ScriptedHost*>(context);
      v1::HostRequest request;
      v1::HostResponse response;
      if (!request.ParseFromArray(data, static_cast<int>(size))) return SAS_ERR_INVALID_ARGUMENT;
      Answer answer;
      {
        std::lock_guard lock(self->mutex_);
        self->requests_.push_back(request);
      }
      answer = self->handler_(request, response);
      const std::string bytes = answer.status == SAS_OK ? response.SerializeAsString() : answer.message;
      out->data = static_cast<uint8_t*>(std::malloc(bytes.size() + 1));
      std::memcpy(out->data, bytes.data(), bytes.size());
      out->size = bytes.size();
      return answer.status;
    };
    api_.free_bytes = [](sas_bytes* bytes) {
      std::free(bytes->data);
      bytes->data = nullptr;
      bytes->size = 0;
    };
  }
  ScriptedHost(const ScriptedHost&) = delete;
  ScriptedHost& operator=(const ScriptedHost&) = delete;

  void answer_with(Handler handler) { handler_ = std::move(handler); }
  const sas::sdk::Host& host() const { return host_; }
  std::vector<v1::HostRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<std::string> logs() {
    std::lock_guard lock(mutex_);
    return logs_;
  }

 private:
  sas_host_api api_{};
  sas::sdk::Host host_{&api_};
  Handler handler_ = [](const v1::HostRequest&, v1::HostResponse&) { return Answer{}; };
  std::mutex mutex_;
  std::vector<v1::HostRequest> requests_;
  std::vector<std::string> logs_;
};

v1::Consultation consultation(const std::string& id) {
  v1::Consultation c;
  c.set_consultation_id(id);
  return c;
}

// Answers every consultation with a decision naming it, except those `script` answers first.
ScriptedHost::Handler decisions(std::function<std::optional<Answer>(const std::string& id)> script) {
  return [script](const v1::HostRequest& request, v1::HostResponse& response) {
    const std::string& id = request.report_consultation().consultation().consultation_id();
    if (auto answer = script(id)) return *answer;
    auto& decision = *response.mutable_report_consultation()->mutable_decision();
    decision.set_consultation_id(id);
    decision.set_code("SNP");
    return Answer{};
  };
}

// The vendor's side: pending rows and what was marked.
struct Table {
  std::vector<std::string> pending;
  std::vector<std::string> done;     // "id:code" of the host's decision
  std::vector<std::string> refused;  // "id:reason"

  void deliver(rp::Round& round) {
    const std::vector<std::string> batch = pending;
    for (const std::string& id : batch) {
      const bool go_on = round.send(
          "consultation " + id, consultation(id),
          [&](const v1::ReportConsultationResponse& r) { mark(id, done, r.decision().code()); },
          [&](const std::string& reason) { mark(id, refused, reason); });
      if (!go_on) break;
    }
  }
  void mark(const std::string& id, std::vector<std::string>& into, const std::string& what) {
    into.push_back(id + ":" + what);
    std::erase(pending, id);
  }
};

std::vector<std::string> consultation_ids(const std::vector<v1::HostRequest>& requests) {
  std::vector<std::string> ids;
  for (const auto& r : requests) ids.push_back(r.report_consultation().consultation().consultation_id());
  return ids;
}

TEST(ReporterPolicy, EachHostStatusHasOneVerdict) {
  using sas::sdk::Status;
  EXPECT_EQ(rp::verdict(Status::ok()), rp::Verdict::accepted);
  EXPECT_EQ(rp::verdict(Status::invalid_argument("bad")), rp::Verdict::refused);
  EXPECT_EQ(rp::verdict(Status::not_found("no rule 3")), rp::Verdict::refused);
  EXPECT_EQ(rp::verdict(Status::unavailable("store down")), rp::Verdict::retry_later);
  EXPECT_EQ(rp::verdict(Status::deadline_exceeded("late")), rp::Verdict::retry_later);
  EXPECT_EQ(rp::verdict(Status::unimplemented("old host")), rp::Verdict::retry_later);
  EXPECT_EQ(rp::verdict(Status::internal("bug")), rp::Verdict::retry_later);
  EXPECT_EQ(rp::verdict(Status::already_exists("?")), rp::Verdict::retry_later);
}

TEST(ReporterRound, AcceptedRowsAreMarkedDoneRefusedOnesKeepTheReasonAndTheStreamGoesOn) {
  ScriptedHost scripted;
  scripted.answer_with(decisions([](const std::string& id) -> std::optional<Answer> {
    if (id == "C2") return Answer{SAS_ERR_INVALID_ARGUMENT, "consultation: field \"specialty\": unknown"};
    return std::nullopt;
  }));
  Table table{{"C1", "C2", "C3"}, {}, {}};
  rp::Round round(scripted.host(), "consultation reports");
  table.deliver(round);
  EXPECT_FALSE(round.paused());
  EXPECT_THAT(table.done, ElementsAre("C1:SNP", "C3:SNP"));
  EXPECT_THAT(table.refused, ElementsAre("C2:consultation: field \"specialty\": unknown"));
  EXPECT_TRUE(table.pending.empty());
  EXPECT_EQ(round.accepted_count(), 2);
  EXPECT_EQ(round.refused_count(), 1);
  EXPECT_THAT(scripted.logs(), testing::Contains(HasSubstr("consultation C2 refused by the host")));
}

TEST(ReporterRound, AnOutageLeavesTheRowPendingAndSendsNothingAfterIt) {
  ScriptedHost scripted;
  scripted.answer_with(decisions([](const std::string& id) -> std::optional<Answer> {
    if (id == "C2") return Answer{SAS_ERR_UNAVAILABLE, "store busy"};
    return std::nullopt;
  }));
  Table table{{"C1", "C2", "C3"}, {}, {}};
  rp::Round round(scripted.host(), "consultation reports");
  table.deliver(round);
  EXPECT_TRUE(round.paused());
  EXPECT_THAT(round.pause_reason(), HasSubstr("store busy"));
  EXPECT_THAT(table.done, ElementsAre("C1:SNP"));
  EXPECT_TRUE(table.refused.empty());
  EXPECT_THAT(table.pending, ElementsAre("C2", "C3"));
  EXPECT_THAT(consultation_ids(scripted.requests()), ElementsAre("C1", "C2"));  // C3 never sent
  // A caller that does not stop cannot send out of order either.
  EXPECT_FALSE(round.send(
      "consultation C3", consultation("C3"), [](const auto&) { FAIL(); }, [](const std::string&) { FAIL(); }));
  EXPECT_EQ(scripted.requests().size(), 2U);
}

TEST(ReporterRound, ADeadlineOrAnUnknownFailureIsRetriedNotRefused) {
  for (const sas_status status : {SAS_ERR_DEADLINE_EXCEEDED, SAS_ERR_CANCELLED, SAS_ERR_INTERNAL}) {
    ScriptedHost scripted;
    scripted.answer_with(decisions([status](const std::string&) { return Answer{status, "not now"}; }));
    Table table{{"C1"}, {}, {}};
    rp::Round round(scripted.host(), "consultation reports");
    table.deliver(round);
    EXPECT_TRUE(round.paused()) << status;
    EXPECT_THAT(table.pending, ElementsAre("C1")) << status;
  }
}

TEST(ReporterRound, AMarkThatFailsKeepsTheRowForTheNextRound) {
  ScriptedHost scripted;
  scripted.answer_with(decisions([](const std::string&) { return std::optional<Answer>(); }));
  Table table{{"C1", "C2"}, {}, {}};
  rp::Round round(scripted.host(), "consultation reports");
  EXPECT_FALSE(round.send(
      "consultation C1", consultation("C1"),
      [](const v1::ReportConsultationResponse&) { throw std::runtime_error("database is locked"); },
      [](const std::string&) {}));
  EXPECT_TRUE(round.paused());
  EXPECT_THAT(round.pause_reason(), HasSubstr("database is locked"));
  table.deliver(round);  // nothing more this round
  EXPECT_EQ(scripted.requests().size(), 1U);
}

TEST(ReporterRound, EachKindOfRowGoesThroughItsHostMethod) {
  ScriptedHost scripted;
  scripted.answer_with([](const v1::HostRequest& request, v1::HostResponse& response) {
    if (request.has_appointment_event()) {
      response.mutable_appointment_event()->set_sequence(7);
    } else if (request.has_set_doctor_settings()) {
      response.mutable_set_doctor_settings();
    } else if (request.has_add_publication_rule()) {
      response.mutable_add_publication_rule()->mutable_rule()->set_id(12);
    } else if (request.has_remove_publication_rule()) {
      return Answer{SAS_ERR_NOT_FOUND, "no active rule 99"};  // refused for good, not retried
    }
    return Answer{};
  });
  rp::Round round(scripted.host(), "mixed");
  std::vector<std::string> marks;
  auto refused = [&](const std::string& reason) { marks.push_back("refused: " + reason); };
  v1::AppointmentEvent event;
  event.set_appointment_id("A1");
  EXPECT_TRUE(round.send(
      "appointment A1", event,
      [&](const v1::AppointmentEventResponse& r) { marks.push_back("sequence " + std::to_string(r.sequence())); },
      refused));
  EXPECT_TRUE(round.send(
      "settings change 1", v1::SetDoctorSettingsRequest(),
      [&](const v1::SetDoctorSettingsResponse&) { marks.push_back("settings"); }, refused));
  EXPECT_TRUE(round.send(
      "rule request 1", v1::AddPublicationRuleRequest(),
      [&](const v1::AddPublicationRuleResponse& r) { marks.push_back("rule " + std::to_string(r.rule().id())); },
      refused));
  EXPECT_TRUE(round.send(
      "rule request 2", v1::RemovePublicationRuleRequest(),
      [&](const v1::RemovePublicationRuleResponse&) { marks.push_back("removed"); }, refused));
  EXPECT_THAT(marks, ElementsAre("sequence 7", "settings", "rule 12", "refused: no active rule 99"));
  EXPECT_FALSE(round.paused());
}

TEST(ReporterBackoff, TheWaitDoublesAfterEachPausedRoundUpToTheCeiling) {
  rp::Options options;
  options.interval = 100ms;
  options.max_backoff = 1000ms;
  EXPECT_EQ(rp::next_wait(options, 0), 100ms);
  EXPECT_EQ(rp::next_wait(options, 1), 100ms);  // the first retry: the next round, as usual
  EXPECT_EQ(rp::next_wait(options, 2), 200ms);
  EXPECT_EQ(rp::next_wait(options, 3), 400ms);
  EXPECT_EQ(rp::next_wait(options, 4), 800ms);
  EXPECT_EQ(rp::next_wait(options, 5), 1000ms);
  EXPECT_EQ(rp::next_wait(options, 1000), 1000ms);
  options.max_backoff = 10ms;  // a ceiling below the interval: the interval
  EXPECT_EQ(rp::next_wait(options, 7), 100ms);
}

// The thread: an outage, then the host is back; every row arrives once, in order.
TEST(Reporter, AfterAnOutageEveryRowIsDeliveredOnceInOrder) {
  ScriptedHost scripted;
  std::atomic<int> outages{3};
  scripted.answer_with(decisions([&](const std::string&) -> std::optional<Answer> {
    if (outages.load() > 0) {
      --outages;
      return Answer{SAS_ERR_UNAVAILABLE, "store down"};
    }
    return std::nullopt;
  }));
  std::mutex mutex;
  Table table{{"C1", "C2", "C3", "C4"}, {}, {}};
  rp::Reporter reporter;
  reporter.add_stream("consultation reports", [&](rp::Round& round) {
    std::lock_guard lock(mutex);
    table.deliver(round);
  });
  reporter.start(scripted.host(), {5ms, 20ms});
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(mutex);
      if (table.pending.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(50ms);  // more rounds: nothing is sent again
  reporter.stop();
  EXPECT_THAT(table.done, ElementsAre("C1:SNP", "C2:SNP", "C3:SNP", "C4:SNP"));
  EXPECT_THAT(consultation_ids(scripted.requests()), ElementsAre("C1", "C1", "C1", "C1", "C2", "C3", "C4"));
}

// A stream whose host calls fail backs off; another stream goes on meanwhile.
TEST(Reporter, OneStreamsOutageBacksOffWithoutHoldingBackAnother) {
  ScriptedHost scripted;
  scripted.answer_with([](const v1::HostRequest& request, v1::HostResponse& response) {
    if (request.has_appointment_event()) return Answer{SAS_ERR_UNAVAILABLE, "outbox down"};
    response.mutable_report_consultation();
    return Answer{};
  });
  std::atomic<int> event_rounds{0};
  std::atomic<int> consultation_rounds{0};
  rp::Reporter reporter;
  reporter.add_stream("appointment events", [&](rp::Round& round) {
    ++event_rounds;
    round.send(
        "appointment A1", v1::AppointmentEvent(), [](const auto&) {}, [](const std::string&) {});
  });
  reporter.add_stream("consultation reports", [&](rp::Round& round) {
    ++consultation_rounds;
    round.send(
        "consultation C1", consultation("C1"), [](const auto&) {}, [](const std::string&) {});
  });
  reporter.start(scripted.host(), {5ms, 80ms});
  std::this_thread::sleep_for(400ms);
  reporter.stop();
  // Without back-off the failing stream would have run about as often as the other (~80
  // rounds); with it, at 5, 10, 20, 40, 80, 80, ... ms: about 8.
  EXPECT_GE(event_rounds.load(), 3);
  EXPECT_LE(event_rounds.load(), 20);
  EXPECT_GE(consultation_rounds.load(), 3 * event_rounds.load());
}

TEST(Reporter, NothingIsSentWhileAnotherInstanceReports) {
  ScriptedHost scripted;
  std::atomic<int> rounds{0};
  rp::Reporter reporter;
  reporter.add_stream("consultation reports", [&](rp::Round&) { ++rounds; });
  reporter.start(scripted.host(), {5ms, 20ms}, [] { return false; });
  std::this_thread::sleep_for(60ms);
  reporter.stop();
  EXPECT_EQ(rounds.load(), 0);
}

TEST(Reporter, AStreamThatThrowsIsLoggedAndRetried) {
  ScriptedHost scripted;
  std::atomic<int> rounds{0};
  rp::Reporter reporter;
  reporter.add_stream("settings", [&](rp::Round&) {
    ++rounds;
    throw std::runtime_error("no such table: sas_doctor_settings_change");
  });
  reporter.start(scripted.host(), {5ms, 10ms});
  for (int i = 0; i < 200 && rounds < 3; ++i) std::this_thread::sleep_for(5ms);
  reporter.stop();
  EXPECT_GE(rounds.load(), 3);
  EXPECT_THAT(scripted.logs(), testing::Contains(HasSubstr("settings paused: no such table")));
}

}  // namespace
