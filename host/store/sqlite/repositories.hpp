// The SQLite implementation of each flow's repository, each on its own connection to the file.
#pragma once

#include <memory>
#include <sas/host/store/store.hpp>
#include <string>

namespace sas::host::store::sqlite {

std::shared_ptr<regulator_accounts::AccountAudit> open_account_audit(const std::string& path, const std::string& url);
std::shared_ptr<billing::ConsultationLedger> open_consultation_ledger(const std::string& path, const std::string& url);
std::shared_ptr<appointment_notifications::OutboxRepository> open_outbox(const std::string& path, const std::string& url);
std::shared_ptr<doctor_settings::SettingsRepository> open_doctor_settings(const std::string& path,
                                                                          const std::string& url);

}  // namespace sas::host::store::sqlite
