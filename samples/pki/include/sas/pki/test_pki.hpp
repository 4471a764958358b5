// A throw-away test PKI for mutual TLS: one CA trusted for both server and client
// certificates, the SAS platform's client identity, and clients that a correctly configured
// server must refuse. Everything is written as PEM; private keys are unencrypted (mode 0600).
// For tests and the simulator only.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sas::pki {

enum class KeyType { ec_p256, rsa_2048 };

struct TestPkiOptions {
  // Reference time; nullopt = the current time. Valid certificates run from now - 1 day to
  // now + validity_days; client-expired runs from now - 60 days to now - 1 day. The CRL's
  // lastUpdate is now - 1 day, its nextUpdate now + validity_days.
  std::optional<std::chrono::system_clock::time_point> now;
  int validity_days = 365;
  KeyType key_type = KeyType::ec_p256;
};

// Writes into `dir` (created if missing; existing files are overwritten), each NAME as
// NAME.pem + NAME-key.pem:
//   ca                 "SAS SDK Test CA", signs everything below except client-other-ca
//   server             CN=localhost, SAN DNS:localhost + IP:127.0.0.1 (serverAuth)
//   client             CN=sas.sante.fr, OU=SAS: the SAS platform's identity (clientAuth)
//   client-wrong-cn    CN=other.example.fr, OU=SAS
//   client-wrong-ou    CN=sas.sante.fr, OU=OTHER
//   client-expired     CN=sas.sante.fr, OU=SAS, validity entirely in the past
//   client-revoked     CN=sas.sante.fr, OU=SAS, listed in crl.pem
//   other-ca           a second CA, not trusted by the server
//   client-other-ca    CN=sas.sante.fr, OU=SAS, signed by other-ca
// and crl.pem, the CA's CRL revoking client-revoked.
void write_test_pki(const std::filesystem::path& dir, const TestPkiOptions& options = {});

struct CertSpec {
  std::string cn;
  std::string ou;                         // omitted from the subject when empty
  bool server = false;                    // serverAuth instead of clientAuth
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries
};

// Issues one more certificate signed by dir/ca.pem (dir/ca-key.pem): writes dir/NAME.pem and
// dir/NAME-key.pem.
void issue_certificate(const std::filesystem::path& dir, const std::string& name, const CertSpec& spec,
                       const TestPkiOptions& options = {});

// (Re)writes dir/crl.pem, signed by dir/ca.pem, revoking dir/client-revoked.pem plus every
// certificate file in `extra_revoked` (e.g. dir/"client.pem" to test a CRL reload). The CRL
// number is one more than the previous crl.pem's, if any.
void write_crl(const std::filesystem::path& dir, const std::vector<std::filesystem::path>& extra_revoked = {},
               const TestPkiOptions& options = {});

}  // namespace sas::pki
