#include "sas/sdk/phone.hpp"

#include <gtest/gtest.h>

#include <string>

using sas::sdk::phone::to_plus33;

namespace {

void expect_phone(const std::string& raw, const std::string& expected) {
  SCOPED_TRACE("input \"" + raw + "\"");
  std::string error;
  const auto out = to_plus33(raw, &error);
  ASSERT_TRUE(out.has_value()) << error;
  EXPECT_EQ(*out, expected);
}

std::string rejection(const std::string& raw) {
  std::string error;
  const auto out = to_plus33(raw, &error);
  EXPECT_FALSE(out.has_value()) << "input \"" << raw << "\" gave " << out.value_or("");
  EXPECT_FALSE(error.empty()) << "input \"" << raw << "\"";
  EXPECT_FALSE(to_plus33(raw).has_value());  // without an error sink
  return error;
}

}  // namespace

TEST(Phone, FormsListedInTheHeader) {
  expect_phone("01 23 45 67 89", "+33123456789");
  expect_phone("01.23.45.67.89", "+33123456789");
  expect_phone("0123456789", "+33123456789");
  expect_phone("+33 1 23 45 67 89", "+33123456789");
  expect_phone("+33 (0)1 23 45 67 89", "+33123456789");
  expect_phone("0033123456789", "+33123456789");
  expect_phone("33123456789", "+33123456789");
}

TEST(Phone, OtherSeparatorsAndSpacing) {
  expect_phone("01-23-45-67-89", "+33123456789");
  expect_phone("  06 12 34 56 78  ", "+33612345678");
  expect_phone("\t0612345678", "+33612345678");
  expect_phone("(01) 23 45 67 89", "+33123456789");
  expect_phone("+33(0)612345678", "+33612345678");
  expect_phone("+33 (0) 6 12 34 56 78", "+33612345678");
  expect_phone("0033 (0)1 23 45 67 89", "+33123456789");
  expect_phone("33 (0)1 23 45 67 89", "+33123456789");
  expect_phone("(+33) 1 23 45 67 89", "+33123456789");
  expect_phone("+33.1.23.45.67.89", "+33123456789");
  expect_phone("00 33 1 23 45 67 89", "+33123456789");
  expect_phone("+33123456789", "+33123456789");  // already normalised
  expect_phone(
      "01\xC2\xA0"
      "23\xC2\xA0"
      "45\xC2\xA0"
      "67\xC2\xA0"
      "89",
      "+33123456789");  // no-break spaces
}

TEST(Phone, EveryFirstDigit) {
  expect_phone("0123456789", "+33123456789");
  expect_phone("0912345678", "+33912345678");
  expect_phone("0712345678", "+33712345678");
  expect_phone("+33 9 12 34 56 78", "+33912345678");
}

TEST(Phone, RejectsEmpty) {
  rejection("");
  rejection("   ");
  rejection(" . - ");
  rejection("+");
}

TEST(Phone, RejectsWrongLength) {
  rejection("012345678");      // 9 digits
  rejection("01234567890");    // 11 digits starting with 0
  rejection("+3312345678");    // 8 after +33
  rejection("+331234567890");  // 10 after +33
  rejection("003312345678");
  rejection("3312345678");    // 10 digits starting with 33
  rejection("331234567890");  // 12 digits starting with 33
  rejection("+33");
}

TEST(Phone, RejectsNonFrenchPrefixes) {
  const std::string e = rejection("+32 2 123 45 67");
  EXPECT_NE(e.find("+33"), std::string::npos) << e;
  rejection("0032 2 123 45 67");
  rejection("+1 212 555 0100");
  rejection("1234567890");  // 10 digits not starting with 0
  rejection("123456789");
}

TEST(Phone, RejectsTrunkZeroAfterCountryCode) {
  rejection("+330123456789");  // "+33 0..." without the parentheses
  rejection("0033012345678");
  rejection("33012345678");
  rejection("0012345678");  // 10 digits starting with 0 but then 0: not a French number
}

TEST(Phone, RejectsOtherCharacters) {
  const std::string e = rejection("01 23 45 67 8x");
  EXPECT_NE(e.find('x'), std::string::npos) << e;
  rejection("01/23/45/67/89");
  rejection("01 23 45 67 89 poste 12");
  rejection("01+23456789");
  rejection("++33123456789");
  rejection("01 (0)23 45 67 89");  // "(0)" only dropped after a country code
}

// Found by fuzz/admin_settings: the message quoted one byte of a multi-byte character, and the
// admin API's JSON error carrying it was not UTF-8 (fuzz/regressions/admin_settings/).
TEST(Phone, RejectsANonAsciiCharacterNamingItWhole) {
  const std::string e = rejection("06 12 34 \u202D56 78");  // LEFT-TO-RIGHT OVERRIDE, 3 bytes
  EXPECT_NE(e.find("'\u202D'"), std::string::npos) << e;
  EXPECT_NE(rejection("06 12 34 56 7\xE2").find("'\xEF\xBF\xBD'"), std::string::npos);  // a truncated sequence
}
