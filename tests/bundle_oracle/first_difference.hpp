// Where two answers that should be identical part: for the failure messages of the byte-for-byte
// comparisons with the oracles.
#pragma once

#include <cstddef>
#include <string>

namespace sas::test::oracle {

// "first difference at byte N of SIZE", then 240 bytes of each around it.
inline std::string first_difference(const std::string& expected, const std::string& written) {
  std::size_t at = 0;
  while (at < written.size() && at < expected.size() && written[at] == expected[at]) ++at;
  const std::size_t from = at < 120 ? 0 : at - 120;
  return "first difference at byte " + std::to_string(at) + " of " + std::to_string(expected.size()) +
         "\nexpected: ..." + expected.substr(from, 240) + "\nwritten:  ..." + written.substr(from, 240);
}

}  // namespace sas::test::oracle
