#include "password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace sas::sample::agenda_web {

namespace {

constexpr std::string_view kScheme = "pbkdf2_sha256";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

bool from_hex(std::string_view hex, std::vector<unsigned char>& out) {
  if (hex.size() % 2 != 0) return false;
  auto value = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out.clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int high = value(hex[i]), low = value(hex[i + 1]);
    if (high < 0 || low < 0) return false;
    out.push_back(static_cast<unsigned char>(high * 16 + low));
  }
  return true;
}

std::vector<unsigned char> random_bytes(std::size_t size) {
  std::vector<unsigned char> bytes(size);
  if (RAND_bytes(bytes.data(), static_cast<int>(size)) != 1) throw std::runtime_error("RAND_bytes failed");
  return bytes;
}

bool derive(std::string_view password, const std::vector<unsigned char>& salt, int iterations,
            std::vector<unsigned char>& out) {
  out.assign(kHashBytes, 0);
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                           static_cast<int>(salt.size()), iterations, EVP_sha256(), static_cast<int>(out.size()),
                           out.data()) == 1;
}

}  // namespace

std::string hash_password(std::string_view password, int iterations) {
  if (iterations < 1) throw std::invalid_argument("PBKDF2 iterations must be positive");
  auto salt = random_bytes(kSaltBytes);
  std::vector<unsigned char> hash;
  if (!derive(password, salt, iterations, hash)) throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + to_hex(salt.data(), salt.size()) + "$" +
         to_hex(hash.data(), hash.size());
}

bool verify_password(std::string_view password, std::string_view stored) {
  // scheme$iterations$salt$hash
  std::vector<std::string_view> parts;
  for (std::size_t begin = 0;;) {
    auto end = stored.find('$', begin);
    parts.push_back(stored.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  if (parts.size() != 4 || parts[0] != kScheme || parts[1].empty() || parts[1].size() > 9) return false;
  int iterations = 0;
  for (char c : parts[1]) {
    if (c < '0' || c > '9') return false;
    iterations = iterations * 10 + (c - '0');
  }
  std::vector<unsigned char> salt, expected, actual;
  if (iterations < 1 || !from_hex(parts[2], salt) || salt.empty() || !from_hex(parts[3], expected) ||
      expected.size() != kHashBytes) {
    return false;
  }
  if (!derive(password, salt, iterations, actual)) return false;
  return CRYPTO_memcmp(actual.data(), expected.data(), kHashBytes) == 0;
}

std::string random_hex(std::size_t bytes) {
  auto data = random_bytes(bytes);
  return to_hex(data.data(), data.size());
}

std::string random_uuid() {
  auto b = random_bytes(16);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string hex = to_hex(b.data(), b.size());
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace sas::sample::agenda_web
