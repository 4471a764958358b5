#include "tls_test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace sas::server_test {

namespace {

std::string ssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += buf;
    out += ' ';
  }
  return out;
}

}  // namespace

TlsClient::TlsClient(const std::filesystem::path& pki, uint16_t port, const TlsOptions& options) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (options.source_address != nullptr) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    ::inet_pton(AF_INET, options.source_address, &source.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (options.security_level >= 0) SSL_CTX_set_security_level(ctx_, options.security_level);
  SSL_CTX_set_min_proto_version(ctx_, options.min_version);
  SSL_CTX_set_max_proto_version(ctx_, options.max_version);
  if (!options.ciphers.empty()) SSL_CTX_set_cipher_list(ctx_, options.ciphers.c_str());
  SSL_CTX_load_verify_locations(ctx_, (pki / "ca.pem").c_str(), nullptr);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (options.client) {
    SSL_CTX_use_certificate_chain_file(ctx_, (pki / (*options.client + ".pem")).c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, (pki / (*options.client + "-key.pem")).c_str(), SSL_FILETYPE_PEM);
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, "localhost");
}

TlsClient::~TlsClient() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
  ::close(fd_);
}

bool TlsClient::handshake() {
  ERR_clear_error();
  if (SSL_connect(ssl_) == 1) return true;
  error_ += ssl_errors();
  return false;
}

bool TlsClient::send(const std::string& data) {
  return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) == static_cast<int>(data.size());
}

bool TlsClient::send_raw(const std::string& bytes) {
  return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

std::string TlsClient::receive(std::size_t stop_after) {
  std::string out;
  char buf[4096];
  while (out.size() < stop_after) {
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) {
      error_ += ssl_errors();
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string TlsClient::receive_response() {
  std::string out;
  char buf[4096];
  for (;;) {
    auto header_end = out.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      auto cl = out.find("Content-Length: ");
      std::size_t length = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
      if (out.size() >= header_end + 4 + length) return out;
    }
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

bool TlsClient::readable_within(std::chrono::milliseconds timeout) const {
  if (SSL_pending(ssl_) > 0) return true;
  pollfd fd{fd_, POLLIN, 0};
  return ::poll(&fd, 1, static_cast<int>(timeout.count())) > 0;
}

RawOutcome raw_get(const std::filesystem::path& pki, uint16_t port, const TlsOptions& options) {
  TlsClient c(pki, port, options);
  RawOutcome out;
  if (!c.connected()) return {false, "", "connect failed"};
  out.handshake_ok = c.handshake();
  if (out.handshake_ok && c.send("GET /metadata HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
    out.received = c.receive();
  out.error = c.error();
  return out;
}

}  // namespace sas::server_test
