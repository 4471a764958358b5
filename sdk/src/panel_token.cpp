#include "sas/sdk/panel_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "sas/sdk/ids.hpp"

namespace sas::sdk::panel_token {

namespace json = boost::json;

namespace {

constexpr std::size_t kSignatureLength = 32;  // HMAC-SHA256
constexpr std::size_t kMaxSubjectLength = 200;

// base64url (RFC 4648 section 5) without padding, as JWS wants it: OpenSSL's base64 with the
// URL alphabet swapped in.
std::string base64url_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

// Strict: the URL alphabet only, no padding, and the canonical encoding (the unused low bits of
// the last character zero), so that one token has exactly one spelling.
std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 == 1) return std::nullopt;
  std::string standard(text);
  for (char& c : standard) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return std::nullopt;
    }
  }
  const std::size_t padding = (4 - standard.size() % 4) % 4;
  standard.append(padding, '=');
  std::string out(standard.size() / 4 * 3, '\0');
  const int written =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(standard.data()), static_cast<int>(standard.size()));
  if (written < 0 || static_cast<std::size_t>(written) < padding) return std::nullopt;
  out.resize(static_cast<std::size_t>(written) - padding);
  if (base64url_encode(out) != text) return std::nullopt;
  return out;
}

std::array<unsigned char, kSignatureLength> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, kSignatureLength> mac{};
  std::size_t length = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), mac.size(),
                &length) == nullptr ||
      length != mac.size())
    throw std::runtime_error("panel token: OpenSSL could not compute HMAC-SHA256");
  return mac;
}

void require_key(std::string_view key) {
  if (key.size() < kMinKeyLength)
    throw std::invalid_argument("panel token: the key has " + std::to_string(key.size()) + " bytes; at least " +
                                std::to_string(kMinKeyLength) + " are required");
}

bool printable_subject(std::string_view subject) {
  if (subject.empty() || subject.size() > kMaxSubjectLength) return false;
  for (char c : subject) {
    // Control characters would forge log lines and history entries; UTF-8 bytes (>= 0x80) pass.
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::int64_t to_seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Clock::time_point from_seconds(std::int64_t s) { return Clock::time_point(std::chrono::seconds(s)); }

// A NumericDate claim: whole or fractional seconds (truncated), between 1970 and 9999.
std::optional<std::int64_t> numeric_date(const json::value& value) {
  constexpr std::int64_t kYear9999 = 253402300799;
  std::int64_t seconds = 0;
  if (value.is_int64()) {
    seconds = value.get_int64();
  } else if (value.is_uint64()) {
    if (value.get_uint64() > static_cast<std::uint64_t>(kYear9999)) return std::nullopt;
    seconds = static_cast<std::int64_t>(value.get_uint64());
  } else if (value.is_double()) {
    const double d = value.get_double();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(kYear9999)) return std::nullopt;
    seconds = static_cast<std::int64_t>(d);
  } else {
    return std::nullopt;
  }
  if (seconds < 0 || seconds > kYear9999) return std::nullopt;
  return seconds;
}

std::optional<json::object> decode_json_object(std::string_view part) {
  const auto bytes = base64url_decode(part);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(*bytes, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

bool audience_matches(const json::value& aud) {
  if (aud.is_string()) return aud.get_string() == kAudience;
  if (!aud.is_array()) return false;
  for (const auto& item : aud.get_array()) {
    if (item.is_string() && item.get_string() == kAudience) return true;
  }
  return false;
}

}  // namespace

PanelClaims claims_for(std::string subject, std::string practitioner, std::chrono::seconds ttl, Clock::time_point now) {
  const auto issued = std::chrono::time_point_cast<std::chrono::seconds>(now);
  return PanelClaims{std::move(subject), std::move(practitioner), issued, issued + ttl};
}

std::string mint_panel_token(std::string_view key, const PanelClaims& claims) {
  require_key(key);
  if (!printable_subject(claims.subject))
    throw std::invalid_argument("panel token: the subject must be 1 to 200 bytes without control characters");
  std::string why;
  const auto practitioner = ids::normalize_practitioner_id(claims.practitioner, &why);
  if (!practitioner) throw std::invalid_argument("panel token: practitioner: " + why);
  const std::int64_t iat = to_seconds(claims.issued_at);
  const std::int64_t exp = to_seconds(claims.expires_at);
  if (exp <= iat) throw std::invalid_argument("panel token: expires_at must be after issued_at");
  const std::string header = base64url_encode(json::serialize(json::object{{"alg", kAlgorithm}, {"typ", "JWT"}}));
  const std::string payload = base64url_encode(json::serialize(json::object{{"aud", kAudience},
                                                                            {"sub", claims.subject},
                                                                            {"practitioner", practitioner->prefixed},
                                                                            {"iat", iat},
                                                                            {"exp", exp}}));
  std::string signing_input = header + "." + payload;
  const auto mac = hmac_sha256(key, signing_input);
  return signing_input + "." +
         base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

std::optional<PanelClaims> verify_panel_token(std::string_view key, std::string_view token, Clock::time_point now,
                                              std::chrono::seconds max_ttl, TokenRefusal* refusal) {
  require_key(key);
  auto refuse = [refusal](std::string reason, TokenRefusal::Kind kind = TokenRefusal::Kind::invalid) {
    if (refusal) *refusal = TokenRefusal{kind, std::move(reason)};
    return std::optional<PanelClaims>();
  };
  if (token.size() > kMaxTokenLength)
    return refuse("the token is longer than " + std::to_string(kMaxTokenLength) + " bytes");
  const auto first_dot = token.find('.');
  const auto second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos)
    return refuse("the token is not a compact JWS (header.payload.signature)");
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_part = token.substr(second_dot + 1);

  const auto header = decode_json_object(header_part);
  if (!header) return refuse("the token's header is not a base64url-encoded JSON object");
  for (const auto& [name, value] : *header) {
    if (name == "alg") {
      if (!value.is_string() || value.get_string() != kAlgorithm)
        return refuse("the token's algorithm is not HS256 (the only one accepted)");
    } else if (name == "typ") {
      if (!value.is_string() || value.get_string() != "JWT") return refuse("the token's typ is not JWT");
    } else {
      return refuse("the token's header has '" + std::string(name) + "': only alg and typ are accepted");
    }
  }
  if (!header->contains("alg")) return refuse("the token's header has no alg");

  const auto signature = base64url_decode(signature_part);
  if (!signature || signature->size() != kSignatureLength) return refuse("the token's signature is malformed");
  const auto expected = hmac_sha256(key, token.substr(0, second_dot));
  if (CRYPTO_memcmp(expected.data(), signature->data(), kSignatureLength) != 0)
    return refuse("the token's signature does not match (not signed with this host's panel key)");

  const auto payload = decode_json_object(payload_part);
  if (!payload) return refuse("the token's payload is not a base64url-encoded JSON object");
  const auto* aud = payload->if_contains("aud");
  if (!aud) return refuse("the token has no aud claim");
  if (!audience_matches(*aud)) return refuse("the token's audience is not " + std::string(kAudience));
  const auto* sub = payload->if_contains("sub");
  if (!sub) return refuse("the token has no sub claim");
  if (!sub->is_string() || !printable_subject(sub->get_string()))
    return refuse("the token's sub is not a string of 1 to 200 bytes without control characters");
  const auto* practitioner_claim = payload->if_contains("practitioner");
  if (!practitioner_claim) return refuse("the token has no practitioner claim");
  if (!practitioner_claim->is_string()) return refuse("the token's practitioner is not a string");
  std::string why;
  const auto practitioner = ids::normalize_practitioner_id(practitioner_claim->get_string(), &why);
  if (!practitioner) return refuse("the token's practitioner: " + why);
  std::optional<std::int64_t> times[3];
  const char* names[3] = {"iat", "exp", "nbf"};
  for (int i = 0; i < 3; ++i) {
    const auto* claim = payload->if_contains(names[i]);
    if (!claim) {
      if (i < 2) return refuse(std::string("the token has no ") + names[i] + " claim");
      continue;
    }
    times[i] = numeric_date(*claim);
    if (!times[i]) return refuse(std::string("the token's ") + names[i] + " is not a NumericDate (seconds since 1970)");
  }
  const std::int64_t iat = *times[0];
  const std::int64_t exp = *times[1];
  if (exp <= iat) return refuse("the token's exp is not after its iat");
  if (exp - iat > max_ttl.count())
    return refuse("the token's life (exp - iat = " + std::to_string(exp - iat) + " s) exceeds the host's limit of " +
                  std::to_string(max_ttl.count()) + " s");
  const std::int64_t at = to_seconds(now);
  const std::int64_t skew = kClockSkew.count();
  if (iat > at + skew) return refuse("the token is not valid yet (its iat is in the future)");
  if (times[2] && *times[2] > at + skew) return refuse("the token is not valid yet (its nbf is in the future)");
  if (at >= exp + skew) return refuse("the token has expired", TokenRefusal::Kind::expired);
  return PanelClaims{std::string(sub->get_string()), practitioner->prefixed, from_seconds(iat), from_seconds(exp)};
}

}  // namespace sas::sdk::panel_token
