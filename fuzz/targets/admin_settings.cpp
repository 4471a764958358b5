// Admin API: PATCH /admin/v1/practitioners/ID/settings bodies (admin_harness.hpp).
#include "admin_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static sas::fuzz::AdminHarness harness;
  harness.run("PATCH", "/admin/v1/practitioners/810002673899/settings", data, size);
  return 0;
}
