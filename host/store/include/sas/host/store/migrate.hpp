// `sas-host store migrate`: a host that outgrows one machine moves its whole state from its
// SQLite file to PostgreSQL, every row of every table with its id and state.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <sas/host/store/error.hpp>

namespace sas::host::store {

// Copies every row of `from` (sqlite:PATH, an existing file) into `to` (postgresql://...),
// keeping ids, states, attempts and times, in one transaction on the target; the target's id
// sequences continue after the copied ids. Both are brought to the current schema first. A
// target holding any row of the host's tables is refused (nothing is written). The source is
// read under its write lock: stop the host first. Returns (table, rows copied), in copy order.
std::vector<std::pair<std::string, int64_t>> migrate_store(const std::string& from, const std::string& to);

}  // namespace sas::host::store
