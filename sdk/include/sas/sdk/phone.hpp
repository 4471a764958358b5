// French phone numbers in the form the SAS guide requires: +33 followed by 9 digits.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sas::sdk::phone {

// Accepts the forms found in agendas: "01 23 45 67 89", "01.23.45.67.89", "0123456789",
// "+33 1 23 45 67 89", "+33 (0)1 23 45 67 89", "0033123456789", "33123456789".
// Returns "+33123456789", or nullopt (and a reason in *error) for anything that is not a
// French 10-digit number.
std::optional<std::string> to_plus33(std::string_view raw, std::string* error = nullptr);

}  // namespace sas::sdk::phone
