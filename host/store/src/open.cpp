// `--store URL` -> one repository per flow over the backend the URL names.
#include <sas/host/store/store.hpp>

#include "../postgresql/connection.hpp"
#include "../postgresql/repositories.hpp"
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
    auto pool = std::make_shared<postgresql::Pool>(postgresql::parse_url(url));
    Store store;
    store.url = pool->target().display;  // never the password
    store.backend = "postgresql";
    {
      // Its own connection: the migration lock is a session lock, released when it closes.
      postgresql::Connection schema(pool->target().conninfo, pool->target().display);
      store.schema_version = postgresql::migrate(schema);
    }
    store.account_audit = postgresql::open_account_audit(pool);
    store.consultations = postgresql::open_consultation_ledger(pool);
    store.outbox = postgresql::open_outbox(pool);
    store.doctor_settings = postgresql::open_doctor_settings(pool);
    return store;
  }
  // Only the scheme: a mistyped postgresql:// URL may hold a password.
  throw StoreError("--store " + url.substr(0, url.find(':')) +
                   ":...: unknown store URL scheme (expected sqlite:PATH or postgresql://...)");
}

}  // namespace sas::host::store
