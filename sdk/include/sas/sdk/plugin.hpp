// What a vendor writes: one class derived from sas::sdk::AgendaPlugin, one SAS_PLUGIN line.
// The SDK turns it into the C boundary of sas/plugin_abi.h (entry point, manifest, tables,
// buffer ownership, exception firewall), so vendor code never touches the C ABI.
#pragma once

#include <google/protobuf/stubs/common.h>
#include <sas/plugin/v1/plugin.pb.h>
#include <sas/plugin_abi.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace sas::sdk {

namespace v1 = ::sas::plugin::v1;

// The outcome of a plugin method: a stable code from the ABI plus a message for the log.
class Status {
 public:
  Status() = default;
  static Status ok() { return {}; }
  static Status invalid_argument(std::string message) { return {SAS_ERR_INVALID_ARGUMENT, std::move(message)}; }
  static Status not_found(std::string message) { return {SAS_ERR_NOT_FOUND, std::move(message)}; }
  static Status already_exists(std::string message) { return {SAS_ERR_ALREADY_EXISTS, std::move(message)}; }
  static Status unimplemented(std::string message) { return {SAS_ERR_UNIMPLEMENTED, std::move(message)}; }
  static Status unavailable(std::string message) { return {SAS_ERR_UNAVAILABLE, std::move(message)}; }
  static Status deadline_exceeded(std::string message) { return {SAS_ERR_DEADLINE_EXCEEDED, std::move(message)}; }
  static Status internal(std::string message) { return {SAS_ERR_INTERNAL, std::move(message)}; }

  bool is_ok() const { return code_ == SAS_OK; }
  sas_status code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(sas_status code, std::string message) : code_(code), message_(std::move(message)) {}
  sas_status code_ = SAS_OK;
  std::string message_;
};

enum class LogLevel : int32_t {
  debug = SAS_LOG_DEBUG,
  info = SAS_LOG_INFO,
  warning = SAS_LOG_WARNING,
  error = SAS_LOG_ERROR,
};

// The services the host lends the plugin for its whole life (from init to shutdown). Every
// method is thread-safe: a plugin may call them from its own threads.
class Host {
 public:
  explicit Host(const sas_host_api* api) : api_(api) {}
  void log(LogLevel level, std::string_view message) const;
  std::chrono::system_clock::time_point now() const;

  // ABI 1.2: reports a consultation given after an honoured SAS-origin booking; the host
  // judges it (SNP with parcours indicator U, MRT or none), records it, and answers with the
  // decision to pre-fill the invoice. Reporting the same consultation_id again returns the
  // first decision. A host older than 1.2 answers SAS_ERR_UNIMPLEMENTED. The host never calls
  // back into the plugin before answering, so any thread may call it, even inside a method.
  Status report_consultation(const v1::Consultation& consultation, v1::ReportConsultationResponse& response) const;

  // ABI 1.3 (INT_R03): reports a new state of a SAS-origin appointment (booked, rescheduled,
  // cancelled, fulfilled, noshow). Returns once the host has it on disk; the host then delivers
  // it to the SAS platform, in order per appointment, whatever happens to either process. An
  // event the host can never accept answers SAS_ERR_INVALID_ARGUMENT with the reasons; any other
  // failure means "report it again later, in the same order". Thread-safe like the above.
  // Since ABI 1.5, an appointment at an SOS Médecins place sets event.sos_association_siret and
  // leaves practitioner_national_id empty (needs_action: the association has not confirmed yet).
  Status report_appointment_event(const v1::AppointmentEvent& event, v1::AppointmentEventResponse& response) const;

  // ABI 1.4: a doctor's SAS options and publication rules, kept by the host with their
  // history (docs/doctor-options.md), for a vendor whose own UI lets the doctor change them or
  // whose agenda already stores them. Practitioner ids are RPPS or ADELI, prefixed or not: the
  // host normalises. A change is recorded as made through the plugin, by `changed_by` (default:
  // the plugin's manifest name). Statuses: SAS_ERR_INVALID_ARGUMENT with a message naming the
  // field or the conflicting rule (nothing changed; do not retry as is), SAS_ERR_NOT_FOUND for a
  // rule that does not exist, SAS_ERR_UNAVAILABLE when the host's store cannot be written (retry
  // later, in the same order), SAS_ERR_UNIMPLEMENTED from a host older than 1.4
  // (has_doctor_settings() says it beforehand). Thread-safe like the above.
  //
  // The settings now in force; an option never set is absent (`has_visible()` false).
  Status get_doctor_settings(const v1::GetDoctorSettingsRequest& request,
                             v1::GetDoctorSettingsResponse& response) const;
  // Changes the options that are set in the request (phone "" removes the phone) as of
  // `effective_at` (UTC seconds, 0 = now, never in the future); answers the settings now in force.
  // A value equal to the current one is not recorded again.
  Status set_doctor_settings(const v1::SetDoctorSettingsRequest& request,
                             v1::SetDoctorSettingsResponse& response) const;
  // The practitioner's active publication rules, by id, each in its JSON form.
  Status list_publication_rules(const v1::ListPublicationRulesRequest& request,
                                v1::ListPublicationRulesResponse& response) const;
  // Adds a rule given in its JSON form (e.g. {"kind":"snp-motives","motives":["Fièvre"]});
  // refused when malformed or in conflict with an active rule. Answers the rule with its id.
  Status add_publication_rule(const v1::AddPublicationRuleRequest& request,
                              v1::AddPublicationRuleResponse& response) const;
  // Removes an active rule by the id add_publication_rule answered (SAS_ERR_NOT_FOUND otherwise).
  Status remove_publication_rule(const v1::RemovePublicationRuleRequest& request,
                                 v1::RemovePublicationRuleResponse& response) const;
  // Why each slot of `request.agenda` would (not) be published to SAS with the settings and rules
  // now in force: one JSON object per slot, in order, computed by the code search applies.
  Status explain_publication(const v1::ExplainPublicationRequest& request,
                             v1::ExplainPublicationResponse& response) const;

  // True when the host offers host calls (ABI 1.2 or later).
  bool has_host_calls() const;
  // True when the host takes appointment events (negotiated ABI 1.3 or later).
  bool has_appointment_events() const;
  // True when the host takes the doctor settings calls above (negotiated ABI 1.4 or later).
  bool has_doctor_settings() const;

 private:
  Status call(const v1::HostRequest& request, v1::HostResponse& response) const;
  // call() for a 1.4 method: SAS_ERR_UNIMPLEMENTED before 1.4, and the answer must be `expected`.
  Status call_doctor_settings(const v1::HostRequest& request, v1::HostResponse::ResultCase expected,
                              v1::HostResponse& response) const;
  const sas_host_api* api_;
};

// The per-call context: poll `should_stop()` in long loops and give up early.
class CallContext {
 public:
  explicit CallContext(const sas_call_context* context) : context_(context) {}
  bool should_stop() const;

 private:
  const sas_call_context* context_;
};

// One virtual per capability. A capability left as is answers SAS_ERR_UNIMPLEMENTED; the
// manifest's `flows` must list exactly those the class implements.
class AgendaPlugin {
 public:
  virtual ~AgendaPlugin() = default;

  // Called once, before any other method. `config` is --plugin-config, verbatim.
  virtual Status init(std::string_view config, const Host& host) = 0;

  // INT_R01: free slots of the requested practitioners whose start lies in the window. With
  // request.cpts_search (INT_R04, flow "cpts-search", ABI 1.5) also the slots open to CPTS only,
  // and the CPTS the slots name in response.cpts.
  virtual Status search_slots(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response,
                              const CallContext& context);

  // INT_R02 (ABI 1.1, flow "regulator-accounts"): create or update a SAS regulator account in
  // the vendor's user base. The host has validated and normalised the account; the matching
  // rules and statuses are in plugin.proto (WriteRegulatorAccountRequest). Fill
  // response.account with the account as stored, including its account_id.
  virtual Status write_regulator_account(const v1::WriteRegulatorAccountRequest& request,
                                         v1::WriteRegulatorAccountResponse& response, const CallContext& context);

  // ABI 1.2 (flow "sas-billing"): the host's SNP / MRT decision for a consultation the plugin
  // reported; store it where the invoicing module pre-fills the codes. Idempotent.
  virtual Status apply_billing_decision(const v1::ApplyBillingDecisionRequest& request,
                                        v1::ApplyBillingDecisionResponse& response, const CallContext& context);

  // ABI 1.5 (flow "sos-search"): free slots of the requested SOS Médecins associations whose
  // start lies in the window, at their fixed consultation places.
  virtual Status search_sos_slots(const v1::SearchSosSlotsRequest& request, v1::SearchSosSlotsResponse& response,
                                  const CallContext& context);

  // Called once; release connections and files here, not in the destructor.
  virtual void shutdown() {}
};

namespace detail {
using PluginFactory = std::unique_ptr<AgendaPlugin> (*)();
sas_status negotiate(const sas_negotiate_offer* offer, sas_negotiate_answer* answer, PluginFactory factory,
                     uint32_t threading);
}  // namespace detail

}  // namespace sas::sdk

#define SAS_PLUGIN_STRINGIFY_(x) #x
#define SAS_PLUGIN_STRINGIFY(x) SAS_PLUGIN_STRINGIFY_(x)

// Threading models for SAS_PLUGIN: `serialized` (the host never calls one instance from two
// threads at once) or `free_threaded`.
#define SAS_PLUGIN_THREADING_serialized SAS_THREADING_SERIALIZED
#define SAS_PLUGIN_THREADING_free_threaded SAS_THREADING_FREE_THREADED
#define SAS_PLUGIN_THREADING_NAME_serialized "serialized"
#define SAS_PLUGIN_THREADING_NAME_free_threaded "free-threaded"

// SAS_PLUGIN(Class, "name", "vendor", "version", "flow,flow", serialized|free_threaded)
// defines the two exported symbols of the ABI. All arguments but Class are string literals, so
// the manifest is plain data the host reads without running any code. The manifest also records
// the protobuf headers the plugin is compiled against (GOOGLE_PROTOBUF_VERSION): the plugin uses
// the protobuf runtime its host process loaded, and the host refuses a plugin compiled against
// another major.minor (docs/plugin-guide.md, "Protobuf").
#define SAS_PLUGIN(PluginClass, NAME, VENDOR, VERSION, FLOWS, THREADING)                                              \
  extern "C" __attribute__((visibility("default"), used, section(SAS_PLUGIN_MANIFEST_SECTION)))                       \
  const char sas_plugin_manifest[] =                                                                                  \
      "name=" NAME "\nvendor=" VENDOR "\nversion=" VERSION                                                            \
      "\nabi=" SAS_PLUGIN_STRINGIFY(SAS_ABI_VERSION_MAJOR) "." SAS_PLUGIN_STRINGIFY(                                  \
          SAS_ABI_VERSION_MINOR) "\nflows=" FLOWS "\nthreading=" SAS_PLUGIN_THREADING_NAME_##THREADING                \
      "\nprotobuf=" SAS_PLUGIN_STRINGIFY(GOOGLE_PROTOBUF_VERSION) "\n";                                               \
  extern "C" __attribute__((visibility("default"))) sas_status sas_plugin_negotiate(const sas_negotiate_offer* offer, \
                                                                                    sas_negotiate_answer* answer) {   \
    return ::sas::sdk::detail::negotiate(                                                                             \
        offer, answer, []() -> std::unique_ptr<::sas::sdk::AgendaPlugin> { return std::make_unique<PluginClass>(); }, \
        SAS_PLUGIN_THREADING_##THREADING);                                                                            \
  }
