// A raw OpenSSL client for the server's tests: every TLS knob a refused client needs (version,
// cipher list, security level, certificate or none, source address), and byte-level sends, so
// that a test sees exactly where a refusal happens (the handshake, before any HTTP byte).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace sas::server_test {

struct TlsOptions {
  std::optional<std::string> client = "client";  // NAME(.pem, -key.pem) in the PKI; nullopt: no certificate
  int min_version = 0;
  int max_version = TLS1_2_VERSION;      // 1.2 by default: a refusal then fails SSL_connect itself
  int security_level = -1;               // -1: OpenSSL's default (0 lets the client offer TLS 1.0/1.1, SHA-1)
  std::string ciphers;                   // TLS 1.2 cipher list offered; empty: OpenSSL's default
  const char* source_address = nullptr;  // the client's own address (another loopback one); none: any
};

// One TCP connection to 127.0.0.1:port and an SSL object over it, trusting pki/ca.pem.
class TlsClient {
 public:
  TlsClient(const std::filesystem::path& pki, uint16_t port, const TlsOptions& options = {});
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;
  ~TlsClient();

  bool connected() const { return connected_; }
  // True if the handshake completed; error() says why not.
  bool handshake();
  bool send(const std::string& data);
  bool send_raw(const std::string& bytes);  // on the socket, outside TLS
  // Reads until the peer closes, fails or `stop_after` bytes arrived.
  std::string receive(std::size_t stop_after = SIZE_MAX);
  // One whole response (Content-Length framed).
  std::string receive_response();
  // Whether the server sent something (or closed) within `timeout`.
  bool readable_within(std::chrono::milliseconds timeout) const;
  const std::string& error() const { return error_; }
  std::string version() const { return SSL_get_version(ssl_); }
  std::string cipher() const { return SSL_get_cipher_name(ssl_); }

 private:
  int fd_ = -1;
  bool connected_ = false;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string error_;
};

// What a client sees of one GET /metadata over raw TLS: whether its handshake completed, the
// bytes of HTTP it received, and OpenSSL's errors (a refused client's alert is among them).
struct RawOutcome {
  bool handshake_ok = false;
  std::string received;
  std::string error;
};
RawOutcome raw_get(const std::filesystem::path& pki, uint16_t port, const TlsOptions& options);

}  // namespace sas::server_test
