#include "sas/sdk/ids.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ids = sas::sdk::ids;
using ids::PractitionerIdKind;
using ids::StructureIdKind;

namespace {

void expect_practitioner(const std::string& raw, PractitionerIdKind kind, const std::string& unprefixed,
                         const std::string& prefixed) {
  SCOPED_TRACE("input \"" + raw + "\"");
  std::string error;
  const auto id = ids::normalize_practitioner_id(raw, &error);
  ASSERT_TRUE(id.has_value()) << error;
  EXPECT_EQ(id->kind, kind);
  EXPECT_EQ(id->unprefixed, unprefixed);
  EXPECT_EQ(id->prefixed, prefixed);
}

void expect_practitioner_rejected(const std::string& raw) {
  SCOPED_TRACE("input \"" + raw + "\"");
  std::string error;
  EXPECT_FALSE(ids::normalize_practitioner_id(raw, &error).has_value());
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(ids::normalize_practitioner_id(raw).has_value());  // no error sink: must not crash
}

void expect_structure(StructureIdKind kind, const std::string& raw, const std::string& prefixed) {
  SCOPED_TRACE("input \"" + raw + "\"");
  std::string error;
  const auto id = ids::normalize_structure_id(kind, raw, &error);
  ASSERT_TRUE(id.has_value()) << error;
  EXPECT_EQ(*id, prefixed);
}

void expect_structure_rejected(StructureIdKind kind, const std::string& raw) {
  SCOPED_TRACE("input \"" + raw + "\"");
  std::string error;
  EXPECT_FALSE(ids::normalize_structure_id(kind, raw, &error).has_value());
  EXPECT_FALSE(error.empty());
}

}  // namespace

TEST(PractitionerId, RppsUnprefixed) {
  expect_practitioner("10002673899", PractitionerIdKind::rpps, "10002673899", "810002673899");
}

TEST(PractitionerId, RppsPrefixed) {
  expect_practitioner("810002673899", PractitionerIdKind::rpps, "10002673899", "810002673899");
}

TEST(PractitionerId, GuideExamplesAreAcceptedDespiteBadCheckDigit) {
  expect_practitioner("810002673899", PractitionerIdKind::rpps, "10002673899", "810002673899");
  expect_practitioner("810100050075", PractitionerIdKind::rpps, "10100050075", "810100050075");
  EXPECT_FALSE(ids::has_valid_check_digit("10002673899"));
  EXPECT_FALSE(ids::has_valid_check_digit("10100050075"));
}

TEST(PractitionerId, AdeliUnprefixed) {
  expect_practitioner("751234567", PractitionerIdKind::adeli, "751234567", "0751234567");
}

TEST(PractitionerId, AdeliPrefixed) {
  expect_practitioner("0751234567", PractitionerIdKind::adeli, "751234567", "0751234567");
}

TEST(PractitionerId, AdeliStartingWithZeroDepartment) {
  // Department 01 (Ain): the unprefixed ADELI itself starts with 0, 9 characters.
  expect_practitioner("011234567", PractitionerIdKind::adeli, "011234567", "0011234567");
  expect_practitioner("0011234567", PractitionerIdKind::adeli, "011234567", "0011234567");
}

TEST(PractitionerId, AdeliCorsica) {
  expect_practitioner("2A1234567", PractitionerIdKind::adeli, "2A1234567", "02A1234567");
  expect_practitioner("2B1234567", PractitionerIdKind::adeli, "2B1234567", "02B1234567");
  expect_practitioner("02A1234567", PractitionerIdKind::adeli, "2A1234567", "02A1234567");
  expect_practitioner("02B1234567", PractitionerIdKind::adeli, "2B1234567", "02B1234567");
  // Lower case as typed by a user is normalised to the official upper case.
  expect_practitioner("2a1234567", PractitionerIdKind::adeli, "2A1234567", "02A1234567");
}

TEST(PractitionerId, SurroundingWhitespaceIsTrimmed) {
  expect_practitioner("  810002673899 ", PractitionerIdKind::rpps, "10002673899", "810002673899");
  expect_practitioner("\t10002673899\n", PractitionerIdKind::rpps, "10002673899", "810002673899");
  expect_practitioner(" 0751234567", PractitionerIdKind::adeli, "751234567", "0751234567");
}

TEST(PractitionerId, InternalSpaceIsAnError) {
  expect_practitioner_rejected("8 10002673899");
  expect_practitioner_rejected("100 026 738 99");
  expect_practitioner_rejected("75123 4567");
}

TEST(PractitionerId, Rejected) {
  expect_practitioner_rejected("");
  expect_practitioner_rejected("   ");
  expect_practitioner_rejected("8123456789");     // 10 chars not starting with 0
  expect_practitioner_rejected("010002673899");   // 12 chars not starting with 8
  expect_practitioner_rejected("1000267389A");    // 11 with a letter
  expect_practitioner_rejected("8100026738A9");   // 12 with a letter
  expect_practitioner_rejected("8810002673899");  // 13 digits
  expect_practitioner_rejected("7512345");        // 7 digits
  expect_practitioner_rejected("1000267389");     // 10 digits starting with 1
  expect_practitioner_rejected("2C1234567");      // not a Corsican department
  expect_practitioner_rejected("12A345678");      // letter at the wrong place
  expect_practitioner_rejected("A21234567");
  expect_practitioner_rejected("07512345X7");
  expect_practitioner_rejected("8+0002673899");
}

TEST(PractitionerId, ElevenDigitsStartingWith8IsAnUnprefixedRpps) {
  // Length decides: 11 digits are always an unprefixed RPPS, even when starting with 8.
  expect_practitioner("81000267389", PractitionerIdKind::rpps, "81000267389", "881000267389");
}

TEST(StoredForms, PrefixedRpps) {
  EXPECT_EQ(ids::stored_forms("810002673899"), (std::vector<std::string>{"810002673899", "10002673899"}));
}

TEST(StoredForms, PrefixedAdeli) {
  EXPECT_EQ(ids::stored_forms("0751234567"), (std::vector<std::string>{"0751234567", "751234567"}));
  EXPECT_EQ(ids::stored_forms("02B1234567"), (std::vector<std::string>{"02B1234567", "2B1234567"}));
}

TEST(StoredForms, EmptyWhenNotAValidPrefixedId) {
  EXPECT_TRUE(ids::stored_forms("10002673899").empty());  // unprefixed
  EXPECT_TRUE(ids::stored_forms("751234567").empty());    // unprefixed
  EXPECT_TRUE(ids::stored_forms("").empty());
  EXPECT_TRUE(ids::stored_forms("8100026738").empty());
  EXPECT_TRUE(ids::stored_forms("910002673899").empty());
}

TEST(StructureId, Finess) {
  expect_structure(StructureIdKind::finess, "750000010", "1750000010");
  expect_structure(StructureIdKind::finess, "1750000010", "1750000010");
  expect_structure(StructureIdKind::finess, " 750000010 ", "1750000010");
  expect_structure(StructureIdKind::finess, "2A0000016", "12A0000016");
  expect_structure(StructureIdKind::finess, "12B0000014", "12B0000014");
  expect_structure(StructureIdKind::finess, "010000016", "1010000016");
}

TEST(StructureId, FinessRejected) {
  expect_structure_rejected(StructureIdKind::finess, "");
  expect_structure_rejected(StructureIdKind::finess, "75000001");     // 8
  expect_structure_rejected(StructureIdKind::finess, "2750000010");   // 10 not starting with 1
  expect_structure_rejected(StructureIdKind::finess, "17500000100");  // 11
  expect_structure_rejected(StructureIdKind::finess, "75000 0010");
  expect_structure_rejected(StructureIdKind::finess, "2C0000016");
  expect_structure_rejected(StructureIdKind::finess, "75000001X");
}

TEST(StructureId, Siret) {
  expect_structure(StructureIdKind::siret, "73282932000074", "373282932000074");
  expect_structure(StructureIdKind::siret, "373282932000074", "373282932000074");
  expect_structure(StructureIdKind::siret, "\t73282932000074 ", "373282932000074");
}

TEST(StructureId, SiretRejected) {
  expect_structure_rejected(StructureIdKind::siret, "7328293200007");     // 13
  expect_structure_rejected(StructureIdKind::siret, "473282932000074");   // 15 not starting with 3
  expect_structure_rejected(StructureIdKind::siret, "3373282932000074");  // 16
  expect_structure_rejected(StructureIdKind::siret, "732 829 320 00074");
  expect_structure_rejected(StructureIdKind::siret, "7328293200007A");
  expect_structure_rejected(StructureIdKind::siret, "   ");
}

TEST(StructureId, RppsRang) {
  expect_structure(StructureIdKind::rpps_rang, "412345678912345", "412345678912345");  // guide example
  expect_structure(StructureIdKind::rpps_rang, "12345678912345", "412345678912345");
  expect_structure(StructureIdKind::rpps_rang, "10002673899", "410002673899");  // 11 digits
  expect_structure(StructureIdKind::rpps_rang, "410002673899", "410002673899");
  expect_structure(StructureIdKind::rpps_rang, "100026738991", "4100026738991");
  expect_structure(StructureIdKind::rpps_rang, "1000267389912", "41000267389912");
}

TEST(StructureId, RppsRangRejected) {
  expect_structure_rejected(StructureIdKind::rpps_rang, "1000267389");        // 10
  expect_structure_rejected(StructureIdKind::rpps_rang, "4123456789123456");  // 16
  expect_structure_rejected(StructureIdKind::rpps_rang, "5123456789123456");  // 16
  expect_structure_rejected(StructureIdKind::rpps_rang, "512345678912345");   // 15 not starting with 4
  expect_structure_rejected(StructureIdKind::rpps_rang, "4123456789 12345");
  expect_structure_rejected(StructureIdKind::rpps_rang, "4123456789A2345");
}

TEST(CheckDigit, KnownValidNumbers) {
  EXPECT_TRUE(ids::has_valid_check_digit("73282932000074"));  // SIRET from INSEE documentation
  // RPPS computed by hand: 1000267389 + key; from the right, doubled 9,3,6,0,0 -> 9+6+3+0+0,
  // plain 8,7,2,0,1 -> 18; 9+6+3+18 = 36, key 4.
  EXPECT_TRUE(ids::has_valid_check_digit("10002673894"));
  EXPECT_TRUE(ids::has_valid_check_digit("10000000009"));  // payload sums to 1 -> key 9
  EXPECT_TRUE(ids::has_valid_check_digit("732829320"));    // 9 digits (SIREN of the SIRET above)
  EXPECT_TRUE(ids::has_valid_check_digit("750000010"));    // FINESS-shaped: doubled 1 and 5 -> 2+1, +7 = 10
}

TEST(CheckDigit, CorsicanFiness) {
  // 2A counts as 20: 2 + 0 + ... + 2*1 = 4 -> key 6.  2B counts as 21: 2 + 2*1 + 2*1 = 6 -> key 4.
  EXPECT_TRUE(ids::has_valid_check_digit("2A0000016"));
  EXPECT_TRUE(ids::has_valid_check_digit("2B0000014"));
  EXPECT_FALSE(ids::has_valid_check_digit("2A0000014"));
  EXPECT_FALSE(ids::has_valid_check_digit("2B0000016"));
}

TEST(CheckDigit, WrongKeyOrTransposition) {
  EXPECT_FALSE(ids::has_valid_check_digit("73282932000075"));
  EXPECT_FALSE(ids::has_valid_check_digit("73282932000047"));
  EXPECT_FALSE(ids::has_valid_check_digit("10002673895"));
  EXPECT_FALSE(ids::has_valid_check_digit("01002673894"));  // first two digits swapped
  EXPECT_FALSE(ids::has_valid_check_digit("750000011"));
}

TEST(CheckDigit, OnlyKnownLengthsAndDigits) {
  EXPECT_FALSE(ids::has_valid_check_digit(""));
  EXPECT_FALSE(ids::has_valid_check_digit("0"));                // Luhn-valid but no such id
  EXPECT_FALSE(ids::has_valid_check_digit("0000000000"));       // 10 digits
  EXPECT_FALSE(ids::has_valid_check_digit("373282932000074"));  // prefixed SIRET
  EXPECT_FALSE(ids::has_valid_check_digit("810002673894"));     // prefixed RPPS
  EXPECT_FALSE(ids::has_valid_check_digit("1000267389A"));
  EXPECT_FALSE(ids::has_valid_check_digit("2C0000016"));
}

TEST(StoredSiretForms, PrefixedAndUnprefixed) {
  EXPECT_EQ(ids::stored_siret_forms("334173748400020"),
            (std::vector<std::string>{"334173748400020", "34173748400020"}));
  EXPECT_EQ(ids::stored_siret_forms(" 334173748400020 "),
            (std::vector<std::string>{"334173748400020", "34173748400020"}));
}

TEST(StoredSiretForms, EmptyWhenNotAPrefixedSiret) {
  EXPECT_TRUE(ids::stored_siret_forms("34173748400020").empty());   // unprefixed: 14 digits
  EXPECT_TRUE(ids::stored_siret_forms("434173748400020").empty());  // another prefix
  EXPECT_TRUE(ids::stored_siret_forms("3341737484000A0").empty());  // not digits
  EXPECT_TRUE(ids::stored_siret_forms("").empty());
}
