// Pushing the vendor's pending rows to the host (consultations for billing, INT_R03 appointment
// events, doctor settings and publication rule requests): one policy for every host status, so
// that no vendor loses, reorders or endlessly retries a row. The guide for vendors is
// docs/plugin-guide/accounts-and-reports.md.
//
// The policy, by the host's status for one row (docs/abi.md, host methods):
//  - SAS_OK: accepted. The row is marked done with the host's answer (a billing decision, an
//    outbox sequence, a rule id) and never sent again.
//  - SAS_ERR_INVALID_ARGUMENT (bad data) or SAS_ERR_NOT_FOUND (it names something the host does
//    not have, e.g. a rule already removed): refused for good. The row is marked refused with the
//    host's message, never sent again, and the next row goes on.
//  - anything else (SAS_ERR_UNAVAILABLE: the host's store is down; SAS_ERR_DEADLINE_EXCEEDED,
//    SAS_ERR_CANCELLED, SAS_ERR_UNIMPLEMENTED, SAS_ERR_INTERNAL): the row stays pending and the
//    stream pauses: no later row of it is sent in this round (the host keeps each stream's
//    order), and the stream runs again after a back-off.
// A row is marked only after the host answered; a mark that throws pauses the stream and the row
// is sent again next round. Delivery is therefore at least once: report_consultation answers a
// repeated consultation_id with its first decision, the other calls are not deduplicated by the
// host, so keep the mark a plain write to the store the pending rows are read from.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <sas/sdk/plugin.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace sas::sdk::reporter {

enum class Verdict {
  accepted,     // mark done
  refused,      // mark refused with the host's message; never sent again
  retry_later,  // leave pending; pause the stream
};

// The policy above, for one host status.
Verdict verdict(const Status& host_status);

// The host method that carries each kind of row: the request message picks it.
template <class Request>
struct HostCall;
template <>
struct HostCall<v1::Consultation> {
  using Response = v1::ReportConsultationResponse;
  static Status send(const Host& host, const v1::Consultation& row, Response& response) {
    return host.report_consultation(row, response);
  }
};
template <>
struct HostCall<v1::AppointmentEvent> {
  using Response = v1::AppointmentEventResponse;
  static Status send(const Host& host, const v1::AppointmentEvent& row, Response& response) {
    return host.report_appointment_event(row, response);
  }
};
template <>
struct HostCall<v1::SetDoctorSettingsRequest> {
  using Response = v1::SetDoctorSettingsResponse;
  static Status send(const Host& host, const v1::SetDoctorSettingsRequest& row, Response& response) {
    return host.set_doctor_settings(row, response);
  }
};
template <>
struct HostCall<v1::AddPublicationRuleRequest> {
  using Response = v1::AddPublicationRuleResponse;
  static Status send(const Host& host, const v1::AddPublicationRuleRequest& row, Response& response) {
    return host.add_publication_rule(row, response);
  }
};
template <>
struct HostCall<v1::RemovePublicationRuleRequest> {
  using Response = v1::RemovePublicationRuleResponse;
  static Status send(const Host& host, const v1::RemovePublicationRuleRequest& row, Response& response) {
    return host.remove_publication_rule(row, response);
  }
};

// One round of one stream: the vendor reads its pending rows, oldest first, and hands each to
// send(). Once the stream paused, send() sends nothing more and answers false, so rows are never
// sent out of order even when the caller does not stop.
class Round {
 public:
  // `stopping`, when given, ends the round early (the reporter is stopping): send() then
  // answers false without sending.
  Round(const Host& host, std::string stream, const std::atomic<bool>* stopping = nullptr)
      : host_(host), stream_(std::move(stream)), stopping_(stopping) {}

  // Sends `row` (named `label` in logs, e.g. "consultation C-42") and applies the policy:
  // `accepted(const Response&)` marks it done, `refused(const std::string& reason)` marks it
  // refused. True: go on with the next row; false: the stream paused, stop reading rows.
  template <class Request, class Accepted, class Refused>
  bool send(std::string_view label, const Request& row, Accepted&& accepted, Refused&& refused) {
    if (paused_ || stopped()) return false;
    typename HostCall<Request>::Response response;
    const Status status = HostCall<Request>::send(host_, row, response);
    return settle(
        label, status, [&] { accepted(std::as_const(response)); }, [&](const std::string& reason) { refused(reason); });
  }

  const std::string& stream() const { return stream_; }
  bool paused() const { return paused_; }
  const std::string& pause_reason() const { return pause_reason_; }  // "" unless paused
  int accepted_count() const { return accepted_; }
  int refused_count() const { return refused_; }

  // Pauses the stream from outside a send (e.g. the pending rows could not be read).
  void pause(std::string reason);

 private:
  bool stopped() const { return stopping_ != nullptr && stopping_->load(); }
  bool settle(std::string_view label, const Status& status, const std::function<void()>& accepted,
              const std::function<void(const std::string&)>& refused);

  const Host& host_;
  std::string stream_;
  const std::atomic<bool>* stopping_;
  bool paused_ = false;
  std::string pause_reason_;
  int accepted_ = 0;
  int refused_ = 0;
};

struct Options {
  // Time between rounds of a stream that did not pause.
  std::chrono::milliseconds interval{2000};
  // After n paused rounds in a row, the stream waits interval * 2^(n-1), at most this long
  // (never less than interval): a host whose store is down is not hammered.
  std::chrono::milliseconds max_backoff{30000};
};

// The wait before a stream's next round, after `paused_in_a_row` paused rounds (0: none).
std::chrono::milliseconds next_wait(const Options& options, int paused_in_a_row);

// A background thread that runs each stream's rounds: start it at the end of init, stop it in
// shutdown (the Host is lent until then). A stream is a function that reads that stream's
// pending rows and sends them through the Round, in order.
class Reporter {
 public:
  using Stream = std::function<void(Round&)>;

  Reporter() = default;
  Reporter(const Reporter&) = delete;
  Reporter& operator=(const Reporter&) = delete;
  ~Reporter() { stop(); }

  // Before start. Streams run in the order added; one stream's pause never holds back another.
  void add_stream(std::string name, Stream stream);
  // `may_report`, when given, is asked before each round; false skips it (e.g. another
  // instance on the same agenda holds the reporting lease, docs/abi.md "Where the plugin runs").
  void start(const Host& host, Options options, std::function<bool()> may_report = {});
  // Stops and joins the thread; a round in progress ends after its current row. Idempotent.
  void stop();

 private:
  struct Entry {
    std::string name;
    Stream stream;
    int paused_in_a_row = 0;
    std::chrono::steady_clock::time_point due{};
  };
  void run();

  std::vector<Entry> streams_;
  const Host* host_ = nullptr;
  Options options_;
  std::function<bool()> may_report_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace sas::sdk::reporter
