// The OpenSSL side of the server, kept out of the Beast translation unit: building the
// server SSL_CTX (TLS 1.2+ with forward-secret AEAD suites only, client certificate required,
// CRL, CN/OU allow-list checked in the verify callback) and watching the files it was built from.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sas/host/server/https_server.hpp"

namespace sas::host::server::detail {

// What the verify callback needs; must outlive every SSL_CTX built with it.
struct TlsPolicy {
  std::vector<AllowedSubject> allowed;
  bool require_certificate = true;  // ServerConfig::require_client_certificate
  std::function<void(std::string_view)> log;
};

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// Throws std::runtime_error naming the file and OpenSSL's reason.
SslCtxPtr make_server_context(const ServerConfig& config, const TlsPolicy& policy);

// The certificate's CN and matching OU if its subject is on the allow-list.
std::optional<ClientSubject> match_subject(X509* cert, const std::vector<AllowedSubject>& allowed);
// The same for the peer of an established connection.
std::optional<ClientSubject> peer_subject(SSL* ssl, const std::vector<AllowedSubject>& allowed);

// Why a TLS handshake that OpenSSL failed with `openssl_error` (the packed ERR code Asio reports)
// failed: the verification result the verify callback left on `ssl`, else the error's reason.
HandshakeFailure classify_handshake_failure(SSL* ssl, unsigned long openssl_error);

// Encrypts `head` then `body` as TLS application data of the established connection `ssl`,
// appending the records to `out` instead of handing them to the connection's own write BIO, so
// that a whole answer leaves in one socket write rather than one per 16 KB record. The records
// are the ones SSL_write would have sent (the first one carries `head` and the start of `body`).
// The connection must have no other write in progress. False if OpenSSL refused: the
// connection's TLS state is then unknown and it must be closed.
bool seal_application_data(SSL* ssl, std::string_view head, std::string_view body, std::string& out);

// Modification time and size of each TLS file, to notice a change.
struct FileState {
  bool exists = false;
  std::filesystem::file_time_type mtime{};
  std::uintmax_t size = 0;
  friend bool operator==(const FileState&, const FileState&) = default;
};
std::vector<FileState> tls_file_states(const ServerConfig& config);

}  // namespace sas::host::server::detail
