// The sample's password storage: salted PBKDF2-HMAC-SHA256, in the form the reference plugin
// writes for INT_R02's generated passwords.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <password.hpp>
#include <set>
#include <string>

namespace {

namespace web = sas::sample::agenda_web;

std::string hex(const unsigned char* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) out += {kHex[data[i] >> 4], kHex[data[i] & 15]};
  return out;
}

TEST(Password, HashesAreSaltedAndVerify) {
  const std::string a = web::hash_password("correct horse", 1000);
  const std::string b = web::hash_password("correct horse", 1000);
  EXPECT_NE(a, b);  // a fresh salt each time
  EXPECT_TRUE(web::verify_password("correct horse", a));
  EXPECT_TRUE(web::verify_password("correct horse", b));
  EXPECT_FALSE(web::verify_password("correct horsE", a));
  EXPECT_FALSE(web::verify_password("", a));
  EXPECT_EQ(a.rfind("pbkdf2_sha256$1000$", 0), 0U) << a;
  EXPECT_EQ(web::hash_password("x").rfind("pbkdf2_sha256$600000$", 0), 0U);
}

TEST(Password, VerifiesTheReferencePluginsFormat) {
  // What plugins/sqlite-agenda stores for an INT_R02 account: 100000 iterations.
  const unsigned char salt[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  unsigned char hash[32];
  const std::string password = "0123456789abcdef";
  ASSERT_EQ(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, sizeof salt, 100000,
                              EVP_sha256(), sizeof hash, hash),
            1);
  const std::string stored = "pbkdf2_sha256$100000$" + hex(salt, sizeof salt) + "$" + hex(hash, sizeof hash);
  EXPECT_TRUE(web::verify_password(password, stored));
  EXPECT_FALSE(web::verify_password("0123456789abcdeF", stored));
}

TEST(Password, MalformedStoredValuesNeverMatch) {
  const std::string good = web::hash_password("pw", 10);
  for (const std::string& stored :
       {std::string(), std::string("pw"), std::string("plain:pw"), std::string("pbkdf2_sha256$10$$"),
        std::string("pbkdf2_sha256$0$00$") + std::string(64, '0'),
        std::string("pbkdf2_sha256$x$00$") + std::string(64, '0'),
        std::string("pbkdf2_sha256$10$0g$") + std::string(64, '0'),
        std::string("pbkdf2_sha256$10$00$") + std::string(62, '0'), std::string("pbkdf2-sha256") + good.substr(13),
        std::string("pbkdf2_sha512") + good.substr(13), good + "$", good.substr(0, good.size() - 1)}) {
    EXPECT_FALSE(web::verify_password("pw", stored)) << stored;
  }
  EXPECT_TRUE(web::verify_password("pw", good));
}

TEST(Password, RandomIdsAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    ids.insert(web::random_hex(32));
    ids.insert(web::random_uuid());
  }
  EXPECT_EQ(ids.size(), 2000U);
  EXPECT_EQ(web::random_hex(32).size(), 64U);
}

}  // namespace
