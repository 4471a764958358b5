// Small text helpers every host folder needs; header-only, no dependency (the HTTPS server and
// the sample web app use them too).
#pragma once

#include <string_view>

namespace sas::host::text {

// ASCII blanks: space, tab, CR, LF. (An HTTP header value holds no CR/LF, so for headers this
// is the RFC's optional whitespace.)
constexpr bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// `s` without leading and trailing blanks; a view into `s`, so `s` must outlive it.
constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace sas::host::text
