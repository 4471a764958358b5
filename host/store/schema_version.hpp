// What every backend's schema shares: its version, and the refusal of a store written by a
// newer host. A migration added to one backend is added to all, under the same number.
#pragma once

#include <sas/host/store/error.hpp>
#include <string>

namespace sas::host::store {

// 2: INT_R02 audit, 3: SAS consultations, 4: the INT_R03 outbox, 5: doctor settings and rules.
inline constexpr int kSchemaVersion = 5;

// Throws StoreError when `version` (read from the store `display`) is newer than this host's.
inline void refuse_newer_schema(const std::string& display, int version) {
  if (version <= kSchemaVersion) return;
  throw StoreError("--store " + display + ": schema version " + std::to_string(version) +
                   " is newer than this sas-host (" + std::to_string(kSchemaVersion) + "); upgrade sas-host");
}

}  // namespace sas::host::store
