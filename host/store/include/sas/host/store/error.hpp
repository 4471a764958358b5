// The one error every repository throws: the host's own state could not be read or written.
// Callers treat it as "nothing was recorded, try again later" (a 503, SAS_ERR_UNAVAILABLE).
#pragma once

#include <stdexcept>

namespace sas::host::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace sas::host::store
