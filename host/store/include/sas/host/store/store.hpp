// The host's own state: what `--store URL` opens is one repository per flow, each declared with
// its flow (the guarantees it promises are written there and checked for every backend by
// tests/store), all over one backend: SQLite embedded (store/sqlite/) or PostgreSQL (store/postgresql/).
#pragma once

#include <memory>
#include <string>

#include <sas/host/appointment_notifications/outbox_repository.hpp>
#include <sas/host/billing/consultation_ledger.hpp>
#include <sas/host/doctor_settings/repository.hpp>
#include <sas/host/regulator_accounts/audit_repository.hpp>
#include <sas/host/store/error.hpp>

namespace sas::host::store {

struct Store {
  std::string url;                                                      // as given, without a password
  std::string backend;                                                  // "sqlite" | "postgresql"
  int schema_version = 0;                                               // after migration: the version this host writes
  std::shared_ptr<regulator_accounts::AccountAudit> account_audit;      // INT_R02
  std::shared_ptr<billing::ConsultationLedger> consultations;           // SNP / MRT
  std::shared_ptr<appointment_notifications::OutboxRepository> outbox;  // INT_R03
  std::shared_ptr<doctor_settings::SettingsRepository> doctor_settings;  // options and rules
};

// `sqlite:PATH` (created if missing) or `postgresql://USER@HOST:PORT/DB?pool=N&...` (a libpq
// URI; pool: this handle's connections, default 4). Brings the schema to the current version
// (each migration in one transaction: a crash leaves the previous version). Throws StoreError
// naming what is wrong, e.g. a store written by a newer sas-host.
Store open(const std::string& url);

// What `sas-host check-config` learns of a store without migrating or writing it.
struct StoreProbe {
  std::string url;              // as given, without a password
  std::string backend;          // "sqlite" | "postgresql"
  bool exists = true;           // false: an SQLite file open() would create
  int schema_version = 0;       // 0: empty (open() creates the schema)
  int host_schema_version = 0;  // the version this host writes (open() migrates to it)
};

// Opens the store read-only: SQLite, the file (which this user must be able to write, with its
// directory for the WAL files) or, when missing, a writable directory to create it in;
// PostgreSQL, a connection and its schema version. Throws StoreError naming what is wrong, as
// open() would, including a schema newer than this host's.
StoreProbe probe(const std::string& url);

}  // namespace sas::host::store
