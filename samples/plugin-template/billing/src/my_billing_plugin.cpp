// A SAS plugin template for billing (flow sas-billing): report the consultations of honoured
// SAS-origin appointments to the host, keep the SNP / MRT decision it answers for the invoice.
// The SDK's reporter sends the pending rows with the host's policy (sas/sdk/reporter.hpp):
// accepted -> marked done, refused -> kept with the reason, outage -> retried later, in order.
// Guide: docs/plugin-guide/accounts-and-reports.md.
#include <sas/sdk/plugin.hpp>
#include <sas/sdk/reporter.hpp>

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
namespace rp = sas::sdk::reporter;
using sas::sdk::Status;

// Stand-in for your agenda: consultations waiting to be reported, and the decisions kept for
// the invoicing module. Replace with queries on your tables.
struct MyAgenda {
  std::mutex mutex;
  std::vector<v1::Consultation> pending;             // oldest first
  std::map<std::string, std::string> invoice_codes;  // consultation id -> "SNP+U", "MRT", "" or "refused: ..."
};

class MyBillingPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view config, const sas::sdk::Host& host) override {
    if (config == "demo") {  // one honoured SAS-origin consultation: booked by a regulator 2 h ago
      const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(host.now().time_since_epoch()).count();
      v1::Consultation& c = agenda_.pending.emplace_back();
      c.set_consultation_id("C-1");
      c.set_practitioner_national_id("10002673899");  // as stored: the host normalises
      c.set_regulated_at(now - 2 * 3600);
      c.set_consulted_at(now - 3600);
      c.set_specialty("SM54");
      c.set_opposable_tariff(true);
    }
    if (!host.has_host_calls()) return Status::ok();  // a host older than ABI 1.2: rows wait
    reporter_.add_stream("consultation reports", [this](rp::Round& round) { report(round); });
    reporter_.start(host, {std::chrono::milliseconds(500)});
    return Status::ok();
  }

  // The host's decision again, later (idempotent): store it where the invoice is pre-filled.
  Status apply_billing_decision(const v1::ApplyBillingDecisionRequest& request, v1::ApplyBillingDecisionResponse&,
                                const sas::sdk::CallContext&) override {
    std::lock_guard lock(agenda_.mutex);
    keep(request.decision());
    return Status::ok();
  }

  void shutdown() override { reporter_.stop(); }  // before the host goes away

 private:
  void report(rp::Round& round) {
    std::lock_guard lock(agenda_.mutex);
    const std::vector<v1::Consultation> batch = agenda_.pending;  // your SELECT ... LIMIT 100
    for (const v1::Consultation& c : batch) {
      const bool go_on = round.send(
          "consultation " + c.consultation_id(), c,
          [&](const v1::ReportConsultationResponse& answer) { done(c, answer.decision()); },
          [&](const std::string& reason) { refused(c, reason); });
      if (!go_on) break;  // the host is unavailable: the rest waits, in order
    }
  }
  void keep(const v1::BillingDecision& d) {
    agenda_.invoice_codes[d.consultation_id()] =
        d.code() + (d.parcours_indicator().empty() ? "" : "+") + d.parcours_indicator();
  }
  void done(const v1::Consultation& c, const v1::BillingDecision& d) {
    keep(d);
    std::erase_if(agenda_.pending, [&](const auto& p) { return p.consultation_id() == c.consultation_id(); });
  }
  void refused(const v1::Consultation& c, const std::string& reason) {
    agenda_.invoice_codes[c.consultation_id()] = "refused: " + reason;
    std::erase_if(agenda_.pending, [&](const auto& p) { return p.consultation_id() == c.consultation_id(); });
  }

  MyAgenda agenda_;
  rp::Reporter reporter_;
};

}  // namespace

SAS_PLUGIN(MyBillingPlugin, "my-billing", "Example vendor", "1.0.0", "sas-billing", free_threaded)
