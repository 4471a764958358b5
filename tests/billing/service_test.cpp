// Recording consultations: the weekly cap holds under concurrent reports, a consultation
// reported twice keeps its first decision, and the week boundary splits the count.
#include <gtest/gtest.h>

#include <atomic>
#include <sas/host/billing/service.hpp>
#include <sas/host/store/store.hpp>
#include <sas_test/support.hpp>
#include <thread>

namespace {

using namespace sas::host::billing;
using namespace std::chrono;

class ServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("billing-service");
    ledger_ = sas::host::store::open("sqlite:" + (dir_ / "host.db").string()).consultations;
    service_ = std::make_unique<BillingService>(std::make_shared<const RuleBook>(RuleBook::load(SAS_TEST_RULES_FILE)),
                                                ledger_);
  }
  void TearDown() override {
    service_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Tuesday 24 November 2026 10:00 Paris plus `offset`, regulated 2 h before.
  static Consultation consultation(const std::string& id, minutes offset = minutes(0)) {
    Consultation c;
    c.id = id;
    c.practitioner_id = "810002673899";
    c.consulted_at =
        sas::sdk::datetime::from_paris_local(local_time<milliseconds>(local_days{2026y / November / 24} + hours(10))) +
        offset;
    c.regulated_at = c.consulted_at - hours(2);
    c.specialty = "SM54";
    c.opposable_tariff = true;
    return c;
  }
  std::filesystem::path dir_;
  std::shared_ptr<sas::host::billing::ConsultationLedger> ledger_;
  std::unique_ptr<BillingService> service_;
};

TEST_F(ServiceTest, TwentyFiveConcurrentReportsGiveExactlyTwentySnp) {
  std::vector<std::thread> threads;
  std::atomic<int> snp{0};
  for (int i = 0; i < 25; ++i) {
    threads.emplace_back([&, i] {
      if (service_->report(consultation("c-" + std::to_string(i), minutes(i))).code == "SNP") ++snp;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(snp.load(), 20);
  EXPECT_EQ(ledger_->count_snp_in_week("810002673899", "2026-11-23"), 20);
}

TEST_F(ServiceTest, AConsultationReportedTwiceKeepsItsFirstDecision) {
  const Decision first = service_->report(consultation("c-1"));
  EXPECT_EQ(first.code, "SNP");
  Consultation again = consultation("c-1");
  again.other_codes = {"MCG"};  // would be refused now: the first decision stands
  const Decision second = service_->report(again);
  EXPECT_EQ(second.code, "SNP");
  EXPECT_EQ(second.reasons.size(), first.reasons.size());
  EXPECT_EQ(ledger_->count_snp_in_week("810002673899", "2026-11-23"), 1);
}

TEST_F(ServiceTest, TheWeekStartsOnMondayMidnightParis) {
  for (int i = 0; i < 20; ++i) service_->report(consultation("c-" + std::to_string(i), minutes(i)));
  // Sunday 29 November 23:59 is PDSA anyway; the count for the next week starts from zero.
  Consultation monday = consultation("next-week", days(6));  // Monday 30 November 10:00
  const Decision d = service_->report(monday);
  EXPECT_EQ(d.code, "SNP");
  EXPECT_EQ(d.snp_count_this_week, 0);
  EXPECT_EQ(week_start_text(monday.consulted_at), "2026-11-30");
  Consultation late = consultation("late", minutes(30));
  EXPECT_EQ(service_->explain(late).code, "");  // the 21st of the first week
}

TEST_F(ServiceTest, RecordingNeedsAConsultationId) { EXPECT_THROW(service_->report(consultation("")), BillingError); }

}  // namespace
