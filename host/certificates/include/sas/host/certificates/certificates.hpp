// PEM certificates, private keys and CRLs read and checked with OpenSSL 3, outside any TLS
// connection: what `sas-host check-config` reports on the files a configuration names before
// the server ever loads them. Chains are verified by OpenSSL's own X509_verify_cert.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sas::host::certificates {

struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CrlFree {
  void operator()(X509_CRL* crl) const { X509_CRL_free(crl); }
};
using CertificatePtr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;

using Clock = std::chrono::system_clock;

// Each reads every object of its kind in a PEM file, in order, and throws std::runtime_error
// naming the file with OpenSSL's reason when the file cannot be read, holds none, or holds a
// broken one.
std::vector<CertificatePtr> read_certificates(const std::filesystem::path& file);
KeyPtr read_private_key(const std::filesystem::path& file);  // the first (unencrypted) key
std::vector<CrlPtr> read_crls(const std::filesystem::path& file);

// RFC 2253 names, e.g. "CN=localhost,O=Example".
std::string subject_of(const X509* cert);
std::string issuer_of(const X509* cert);
std::string issuer_of(const X509_CRL* crl);

Clock::time_point not_before(const X509* cert);
Clock::time_point not_after(const X509* cert);
Clock::time_point last_update(const X509_CRL* crl);
std::optional<Clock::time_point> next_update(const X509_CRL* crl);  // none: the CRL gives none

// The public key of `cert` is that of `key`.
bool key_matches(X509* cert, EVP_PKEY* key);

enum class Purpose { tls_server, tls_client };

// X509_verify_cert of chain[0] (the other certificates of `chain` offered as intermediates) up to
// a certificate of `anchors`, or of the system's default store (OpenSSL's default paths) when
// `anchors` is null, checking the extended key usage for `purpose`, at the current time. The
// empty string when it verifies, else OpenSSL's reason with the depth and subject at fault.
std::string verify_chain(const std::vector<CertificatePtr>& chain, const std::vector<CertificatePtr>* anchors,
                         Purpose purpose);

// The certificate of `cas` whose key signed `crl` (and whose subject is its issuer); null when
// none did.
const X509* crl_signer(X509_CRL* crl, const std::vector<CertificatePtr>& cas);

// Whether the certificate names `host` (a DNS name, checked against its SAN / CN as a TLS client
// would, or an IP address), and the names it carries ("DNS:localhost, IP:127.0.0.1").
bool names_host(X509* cert, const std::string& host);
std::string names_of(X509* cert);

// OpenSSL's queued errors as one line (and clears them).
std::string openssl_error();

}  // namespace sas::host::certificates
