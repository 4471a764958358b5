// `--store URL` -> one repository per flow over the backend the URL names.
#include <sas/host/store/store.hpp>

#include "../sqlite/connection.hpp"
#include "../sqlite/repositories.hpp"

namespace sas::host::store {

Store open(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) {
    const std::string path = url.substr(7);
    if (path.empty()) throw StoreError("--store " + url + ": sqlite: needs a file path (sqlite:PATH)");
    Store store;
    store.url = url;
    store.backend = "sqlite";
    {
      sqlite::Connection schema(path, url, /*create=*/true);
      sqlite::migrate(schema);
      store.schema_version = sqlite::schema_version(schema);
    }
    store.account_audit = sqlite::open_account_audit(path, url);
    store.consultations = sqlite::open_consultation_ledger(path, url);
    store.outbox = sqlite::open_outbox(path, url);
    store.doctor_settings = sqlite::open_doctor_settings(path, url);
    return store;
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    throw StoreError("--store " + url + ": the PostgreSQL backend is not in this build yet; use sqlite:PATH");
  }
  throw StoreError("--store " + url + ": unknown store URL (expected sqlite:PATH)");
}

}  // namespace sas::host::store
