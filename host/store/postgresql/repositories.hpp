// The PostgreSQL implementation of each flow's repository, all over one connection pool.
#pragma once

#include <memory>
#include <sas/host/store/store.hpp>

#include "connection.hpp"

namespace sas::host::store::postgresql {

std::shared_ptr<regulator_accounts::AccountAudit> open_account_audit(std::shared_ptr<Pool> pool);
std::shared_ptr<billing::ConsultationLedger> open_consultation_ledger(std::shared_ptr<Pool> pool);
std::shared_ptr<appointment_notifications::OutboxRepository> open_outbox(std::shared_ptr<Pool> pool);
std::shared_ptr<doctor_settings::SettingsRepository> open_doctor_settings(std::shared_ptr<Pool> pool);

}  // namespace sas::host::store::postgresql
