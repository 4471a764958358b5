#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sas/host/store/store.hpp>
#include <sas_test/support.hpp>

namespace {

using sas::host::Store;
using sas::host::StoreError;
using testing::HasSubstr;

std::string open_error(const std::string& url) {
  try {
    Store::open(url);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(StoreTest, CreatesTheEmbeddedSqliteStoreAndReopensIt) {
  auto dir = sas::test::make_temp_dir("store");
  const std::string url = "sqlite:" + (dir / "host.db").string();
  {
    auto store = Store::open(url);
    EXPECT_EQ(store->backend(), "sqlite");
    EXPECT_EQ(store->schema_version(), 5);  // 2: INT_R02 audit, 3: SAS consultations, 4: INT_R03 outbox, 5: doctor settings
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "host.db"));
  EXPECT_EQ(Store::open(url)->schema_version(), 5);
  std::filesystem::remove_all(dir);
}

TEST(StoreTest, BadUrlsAreRefusedWithTheKeyNamed) {
  EXPECT_THAT(open_error("mysql://x"), HasSubstr("--store mysql://x: unknown store URL"));
  EXPECT_THAT(open_error("sqlite:"), HasSubstr("needs a file path"));
  EXPECT_THAT(open_error("sqlite:/nonexistent-dir/x/host.db"), HasSubstr("cannot open"));
  EXPECT_THAT(open_error("postgresql://localhost/sas"), HasSubstr("not in this build yet"));
}

TEST(StoreTest, RefusesAStoreFromANewerHost) {
  auto dir = sas::test::make_temp_dir("store");
  const std::string url = "sqlite:" + (dir / "host.db").string();
  Store::open(url);
  auto result = sas::test::run({"/usr/bin/sqlite3", (dir / "host.db").string(), "PRAGMA user_version = 99"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(open_error(url), HasSubstr("schema version 99 is newer"));
  std::filesystem::remove_all(dir);
}

}  // namespace
