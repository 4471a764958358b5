// The host's own state (settings, outbox, audit records as later flows add them), behind
// one interface: SQLite embedded by default, PostgreSQL for multi-instance deployments.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

namespace sas::host {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual std::string url() const = 0;
  virtual int schema_version() = 0;
  virtual std::string backend() const = 0;  // "sqlite" or "postgresql"

  // `sqlite:PATH` (created if missing). Throws StoreError naming what is wrong.
  static std::unique_ptr<Store> open(const std::string& url);
};

}  // namespace sas::host
