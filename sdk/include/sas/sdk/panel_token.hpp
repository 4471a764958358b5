// The doctor's panel token (docs/doctor-panel.md, "Access"): what a vendor's back end hands to
// the panel page so that it acts for one practitioner, for a short time, on the host's admin
// listener. A JWT (RFC 7519) in the compact JWS form, HS256 only: every back-end stack already
// has a JWT library, and an HMAC key shared with the host needs no PKI.
//
// The host verifies with verify_panel_token; a C++ back end (and the sample agenda) mints with
// mint_panel_token, the same code. Claims:
//   aud           "sas-host-panel" (a string, or an array holding it)
//   sub           who acts: recorded as `changed_by` of every change made with the token
//   practitioner  the doctor's national id, in any form ids::normalize_practitioner_id accepts
//   iat, exp      NumericDate (seconds since 1970 UTC); exp - iat at most the host's max TTL
//   nbf           optional
// Other claims (iss, jti, ...) are ignored. The header is {"alg":"HS256"} with an optional
// "typ":"JWT"; anything else in it (kid, jku, crit, ...) is refused.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sas::sdk::panel_token {

using Clock = std::chrono::system_clock;

inline constexpr std::string_view kAudience = "sas-host-panel";
// The only algorithm: HMAC-SHA256 (alg none, RS256, ... are refused).
inline constexpr std::string_view kAlgorithm = "HS256";
// How far the host's clock and the minting back end's may disagree: an iat up to this far in
// the future is accepted, and a token lives this much past its exp.
inline constexpr std::chrono::seconds kClockSkew{30};
// The host's default longest life of a token (exp - iat), `panel-token-max-ttl-s`.
inline constexpr std::chrono::seconds kDefaultMaxTtl{3600};
// The shortest key accepted (bytes): the host's token-file rule.
inline constexpr std::size_t kMinKeyLength = 32;
// A longer token is refused before any decoding.
inline constexpr std::size_t kMaxTokenLength = 4096;

struct PanelClaims {
  std::string subject;           // sub: who acts (non-empty, printable, at most 200 bytes)
  std::string practitioner;      // after verification: the prefixed form ("8" + RPPS or "0" + ADELI)
  Clock::time_point issued_at;   // iat, whole seconds
  Clock::time_point expires_at;  // exp, whole seconds
};

// Claims for `practitioner` and `subject` valid from `now` for `ttl`.
PanelClaims claims_for(std::string subject, std::string practitioner, std::chrono::seconds ttl,
                       Clock::time_point now = Clock::now());

// The signed token (header.payload.signature, base64url without padding). The practitioner is
// written in its prefixed form. Throws std::invalid_argument when the key is shorter than
// kMinKeyLength, the subject is empty or not printable, the practitioner id is not an RPPS or
// ADELI number, or expires_at is not after issued_at.
std::string mint_panel_token(std::string_view key, const PanelClaims& claims);

struct TokenRefusal {
  enum class Kind {
    invalid,  // malformed, wrong algorithm or audience, forged, a claim missing or wrong, too long a life
    expired,  // well formed and genuine, but past its exp (+ skew)
  };
  Kind kind = Kind::invalid;
  std::string reason;  // one English sentence; never the token or the key
};

// The token's claims when it is a genuine HS256 token of `key` for kAudience, valid at `now`
// (iat - skew <= now < exp + skew, and nbf - skew <= now when given), with exp - iat <= max_ttl;
// else nullopt, and why in *refusal when given. The signature is checked (in constant time)
// before the claims are read. Throws std::invalid_argument only when the key is shorter than
// kMinKeyLength (the caller's configuration, not the token, is wrong).
std::optional<PanelClaims> verify_panel_token(std::string_view key, std::string_view token, Clock::time_point now,
                                              std::chrono::seconds max_ttl = kDefaultMaxTtl,
                                              TokenRefusal* refusal = nullptr);

}  // namespace sas::sdk::panel_token
