// Admin API: POST /admin/v1/practitioners/ID/rules bodies (admin_harness.hpp); a second rule in
// the same input may conflict with the first (409).
#include "admin_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static sas::fuzz::AdminHarness harness;
  harness.run("POST", "/admin/v1/practitioners/810002673899/rules", data, size);
  return 0;
}
