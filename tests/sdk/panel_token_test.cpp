// The panel token (sas/sdk/panel_token.hpp): a round trip, a golden token made by another
// implementation (Python's hmac/base64/json), and each refusal of the contract, with tokens
// built here byte by byte so that each one breaks exactly one rule.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include <sas/sdk/panel_token.hpp>
#include <string>

namespace {

using namespace sas::sdk::panel_token;
using namespace std::chrono_literals;

const std::string kKey = "0123456789abcdef0123456789abcdef-panel-key";
// 2026-11-29T02:13:20Z
const Clock::time_point kIat = Clock::time_point(std::chrono::seconds(1796000000));

// Made with Python 3's standard library from kKey and the claims {"aud":"sas-host-panel",
// "sub":"dr-a@vendor","practitioner":"810002673899","iat":1796000000,"exp":1796001800}.
const std::string kGolden =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJhdWQiOiJzYXMtaG9zdC1wYW5lbCIsInN1YiI6ImRyLWFAdmVuZG9yIiwicHJhY3RpdGlvbmVyIjoiODEwMDAyNjczODk5IiwiaWF0IjoxNz"
    "k2MDAwMDAwLCJleHAiOjE3OTYwMDE4MDB9.pIBFmruggO1jE82hDOfb2nsIM6SU8bh5XWDMG3qSxbQ";

std::string b64url(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string hs256(const std::string& key, const std::string& input) {
  unsigned char mac[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

// A token of the raw JSON texts given, signed with `key`.
std::string token_of(const std::string& header, const std::string& payload, const std::string& key = kKey) {
  const std::string input = b64url(header) + "." + b64url(payload);
  return input + "." + b64url(hs256(key, input));
}

std::string payload_with(const std::string& extra_or_replacement) {
  return R"({"aud":"sas-host-panel","sub":"dr-a","practitioner":"810002673899",)" + extra_or_replacement + "}";
}
const std::string kTimes = R"("iat":1796000000,"exp":1796001800)";
const std::string kHeader = R"({"alg":"HS256","typ":"JWT"})";

TokenRefusal refusal_of(const std::string& token, Clock::time_point now = kIat + 60s,
                        std::chrono::seconds max_ttl = kDefaultMaxTtl) {
  TokenRefusal refusal;
  refusal.reason = "(accepted)";
  EXPECT_FALSE(verify_panel_token(kKey, token, now, max_ttl, &refusal).has_value()) << token;
  return refusal;
}

void expect_invalid(const std::string& token, const std::string& reason_part) {
  const TokenRefusal refusal = refusal_of(token);
  EXPECT_EQ(refusal.kind, TokenRefusal::Kind::invalid) << refusal.reason;
  EXPECT_NE(refusal.reason.find(reason_part), std::string::npos) << refusal.reason;
  if (token.size() > 8) {
    EXPECT_EQ(refusal.reason.find(token), std::string::npos) << "the reason must not echo the token";
  }
}

TEST(PanelToken, MintsWhatAnotherImplementationMints) {
  EXPECT_EQ(mint_panel_token(kKey, PanelClaims{"dr-a@vendor", "810002673899", kIat, kIat + 30min}), kGolden);
  // The unprefixed RPPS is written in its prefixed form: the same token.
  EXPECT_EQ(mint_panel_token(kKey, PanelClaims{"dr-a@vendor", " 10002673899 ", kIat, kIat + 30min}), kGolden);
}

TEST(PanelToken, RoundTrip) {
  const auto claims = verify_panel_token(kKey, kGolden, kIat + 10min);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->subject, "dr-a@vendor");
  EXPECT_EQ(claims->practitioner, "810002673899");
  EXPECT_EQ(claims->issued_at, kIat);
  EXPECT_EQ(claims->expires_at, kIat + 30min);

  const auto adeli = claims_for("Secrétariat Dupont", "751234567", 5min, kIat + 250ms);
  EXPECT_EQ(adeli.issued_at, kIat);
  const auto back = verify_panel_token(kKey, mint_panel_token(kKey, adeli), kIat + 1min);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->practitioner, "0751234567");
  EXPECT_EQ(back->subject, "Secrétariat Dupont");
}

TEST(PanelToken, ClockSkewOfThirtySecondsAtMost) {
  // iat up to 30 s ahead of the host's clock.
  EXPECT_TRUE(verify_panel_token(kKey, kGolden, kIat - 30s).has_value());
  const TokenRefusal early = refusal_of(kGolden, kIat - 31s);
  EXPECT_EQ(early.kind, TokenRefusal::Kind::invalid);
  EXPECT_NE(early.reason.find("not valid yet"), std::string::npos) << early.reason;
  // exp: still good 29 s after it, expired at 30 s.
  EXPECT_TRUE(verify_panel_token(kKey, kGolden, kIat + 30min + 29s).has_value());
  const TokenRefusal late = refusal_of(kGolden, kIat + 30min + 30s);
  EXPECT_EQ(late.kind, TokenRefusal::Kind::expired);
  EXPECT_EQ(late.reason, "the token has expired");
}

TEST(PanelToken, NotBeforeIsHonoured) {
  const std::string token = token_of(kHeader, payload_with(kTimes + R"(,"nbf":1796000600)"));
  EXPECT_TRUE(verify_panel_token(kKey, token, kIat + 10min).has_value());
  expect_invalid(token, "nbf is in the future");
}

TEST(PanelToken, RefusesTooLongALife) {
  const std::string token = token_of(kHeader, payload_with(R"("iat":1796000000,"exp":1796003601)"));
  expect_invalid(token, "exceeds the host's limit of 3600 s");
  EXPECT_TRUE(verify_panel_token(kKey, token, kIat + 1min, 7200s).has_value());
  expect_invalid(token_of(kHeader, payload_with(R"("iat":1796000000,"exp":1796000000)")), "exp is not after its iat");
}

TEST(PanelToken, RefusesOtherAlgorithms) {
  const std::string payload = payload_with(kTimes);
  expect_invalid(b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(payload) + ".", "not HS256");
  expect_invalid(b64url(R"({"alg":"none"})") + "." + b64url(payload) + "." + b64url(hs256(kKey, "x")), "not HS256");
  expect_invalid(token_of(R"({"alg":"RS256","typ":"JWT"})", payload), "not HS256");
  expect_invalid(token_of(R"({"alg":"HS512"})", payload), "not HS256");
  expect_invalid(token_of(R"({"alg":"hs256"})", payload), "not HS256");
  expect_invalid(token_of(R"({"typ":"JWT"})", payload), "no alg");
  expect_invalid(token_of(R"({"alg":"HS256","kid":"k1"})", payload), "'kid'");
  expect_invalid(token_of(R"({"alg":"HS256","jku":"https://evil.example/jwks"})", payload), "'jku'");
  expect_invalid(token_of(R"({"alg":"HS256","typ":"JOSE+JSON"})", payload), "typ");
  // Header {"alg":"HS256"} alone is fine.
  EXPECT_TRUE(verify_panel_token(kKey, token_of(R"({"alg":"HS256"})", payload), kIat).has_value());
}

TEST(PanelToken, RefusesForgedSignatures) {
  const std::string payload = payload_with(kTimes);
  expect_invalid(token_of(kHeader, payload, kKey + "x"), "signature does not match");
  // The golden token with another practitioner in its payload, signature kept.
  const std::string swapped =
      b64url(kHeader) + "." +
      b64url(R"({"aud":"sas-host-panel","sub":"dr-a@vendor","practitioner":"810003000001",)" + kTimes + "}") +
      kGolden.substr(kGolden.rfind('.'));
  expect_invalid(swapped, "signature does not match");
  // One bit of the signature changed (its first character).
  std::string flipped = kGolden;
  flipped[kGolden.rfind('.') + 1] = flipped[kGolden.rfind('.') + 1] == 'p' ? 'q' : 'p';
  expect_invalid(flipped, "signature does not match");
  // A truncated signature, and none at all.
  expect_invalid(kGolden.substr(0, kGolden.size() - 4), "signature is malformed");
  expect_invalid(kGolden.substr(0, kGolden.rfind('.') + 1), "signature is malformed");
}

TEST(PanelToken, RefusesBadBase64urlAndShapes) {
  expect_invalid("", "not a compact JWS");
  expect_invalid("abc", "not a compact JWS");
  expect_invalid("a.b", "not a compact JWS");
  expect_invalid(kGolden + ".x", "not a compact JWS");
  expect_invalid(std::string(kMaxTokenLength + 1, 'a'), "longer than");
  // Standard base64 characters and padding are not base64url.
  std::string plus = kGolden;
  plus.replace(0, 1, "+");
  expect_invalid(plus, "header is not a base64url");
  expect_invalid(b64url(kHeader) + "==." + kGolden.substr(kGolden.find('.') + 1), "header is not a base64url");
  expect_invalid("." + kGolden.substr(kGolden.find('.') + 1), "header is not a base64url");
  // A non-canonical last character (unused low bits set) is another spelling: refused.
  const std::string header = b64url(kHeader);  // 36 chars for 27 bytes: no spare bits, so use the payload
  const std::string payload = b64url(payload_with(kTimes));
  ASSERT_NE(payload.size() % 4, 0U);
  std::string odd_payload = payload;
  odd_payload.back() = static_cast<char>(odd_payload.back() + 1);
  const std::string input = header + "." + odd_payload;
  expect_invalid(input + "." + b64url(hs256(kKey, input)), "payload is not a base64url");
  // JSON that is not an object, or not JSON.
  expect_invalid(token_of("[\"alg\",\"HS256\"]", payload_with(kTimes)), "header is not");
  expect_invalid(token_of("{\"alg\":\"HS256\"", payload_with(kTimes)), "header is not");
  expect_invalid(token_of(kHeader, "not json"), "payload is not");
  expect_invalid(token_of(kHeader, "\"a string\""), "payload is not");
}

TEST(PanelToken, RefusesMissingOrWrongClaims) {
  expect_invalid(token_of(kHeader, R"({"sub":"dr-a","practitioner":"810002673899",)" + kTimes + "}"), "no aud");
  expect_invalid(
      token_of(kHeader, R"({"aud":"sas-host-admin","sub":"dr-a","practitioner":"810002673899",)" + kTimes + "}"),
      "audience is not sas-host-panel");
  expect_invalid(token_of(kHeader, R"({"aud":["other"],"sub":"dr-a","practitioner":"810002673899",)" + kTimes + "}"),
                 "audience");
  EXPECT_TRUE(verify_panel_token(kKey,
                                 token_of(kHeader, R"({"aud":["other","sas-host-panel"],"sub":"dr-a",)"
                                                   R"("practitioner":"810002673899",)" +
                                                       kTimes + "}"),
                                 kIat)
                  .has_value());
  expect_invalid(token_of(kHeader, R"({"aud":"sas-host-panel","practitioner":"810002673899",)" + kTimes + "}"),
                 "no sub");
  expect_invalid(token_of(kHeader, R"({"aud":"sas-host-panel","sub":"","practitioner":"810002673899",)" + kTimes + "}"),
                 "sub is not");
  expect_invalid(
      token_of(kHeader, R"({"aud":"sas-host-panel","sub":"a\nb","practitioner":"810002673899",)" + kTimes + "}"),
      "sub is not");
  expect_invalid(token_of(kHeader, R"({"aud":"sas-host-panel","sub":42,"practitioner":"810002673899",)" + kTimes + "}"),
                 "sub is not");
  expect_invalid(token_of(kHeader, R"({"aud":"sas-host-panel","sub":"dr-a",)" + kTimes + "}"), "no practitioner");
  expect_invalid(token_of(kHeader, R"({"aud":"sas-host-panel","sub":"dr-a","practitioner":"12",)" + kTimes + "}"),
                 "practitioner:");
  expect_invalid(
      token_of(kHeader, R"({"aud":"sas-host-panel","sub":"dr-a","practitioner":810002673899,)" + kTimes + "}"),
      "practitioner is not a string");
  expect_invalid(token_of(kHeader, payload_with(R"("exp":1796001800)")), "no iat");
  expect_invalid(token_of(kHeader, payload_with(R"("iat":1796000000)")), "no exp");
  expect_invalid(token_of(kHeader, payload_with(R"("iat":"1796000000","exp":1796001800)")), "iat is not a NumericDate");
  expect_invalid(token_of(kHeader, payload_with(R"("iat":1796000000,"exp":-1)")), "exp is not a NumericDate");
  expect_invalid(token_of(kHeader, payload_with(R"("iat":1796000000,"exp":1e300)")), "exp is not a NumericDate");
  // A fractional NumericDate is allowed (RFC 7519), truncated to the second.
  const auto fractional =
      verify_panel_token(kKey, token_of(kHeader, payload_with(R"("iat":1796000000.5,"exp":1796001800.9)")), kIat);
  ASSERT_TRUE(fractional.has_value());
  EXPECT_EQ(fractional->expires_at, kIat + 30min);
}

TEST(PanelToken, MintRefusesWhatVerifyWouldRefuse) {
  EXPECT_THROW(mint_panel_token("short", claims_for("dr-a", "810002673899", 5min)), std::invalid_argument);
  EXPECT_THROW(mint_panel_token(kKey, claims_for("", "810002673899", 5min)), std::invalid_argument);
  EXPECT_THROW(mint_panel_token(kKey, claims_for("a\tb", "810002673899", 5min)), std::invalid_argument);
  EXPECT_THROW(mint_panel_token(kKey, claims_for("dr-a", "12", 5min)), std::invalid_argument);
  EXPECT_THROW(mint_panel_token(kKey, claims_for("dr-a", "810002673899", 0s)), std::invalid_argument);
  EXPECT_THROW(verify_panel_token("short", kGolden, kIat), std::invalid_argument);
}

}  // namespace
