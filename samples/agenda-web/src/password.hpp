// Password hashing for regulator accounts (PBKDF2-HMAC-SHA256 from OpenSSL) and random ids.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sas::sample::agenda_web {

// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
inline constexpr int kPbkdf2Iterations = 600000;

// "pbkdf2_sha256$ITERATIONS$SALT_HEX$HASH_HEX", with a fresh 16-byte salt.
std::string hash_password(std::string_view password, int iterations = kPbkdf2Iterations);

// Constant-time check against a stored hash; false for any other or malformed format.
bool verify_password(std::string_view password, std::string_view stored);

// `bytes` bytes from RAND_bytes, as lower-case hex. Throws if the generator fails.
std::string random_hex(std::size_t bytes);

// A random (version 4) UUID, lower case.
std::string random_uuid();

}  // namespace sas::sample::agenda_web
