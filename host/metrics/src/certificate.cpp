#include "sas/host/metrics/certificate.hpp"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <ctime>
#include <memory>

namespace sas::host::metrics {

std::optional<int64_t> certificate_not_after(const std::filesystem::path& pem_file) {
  std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(pem_file.c_str(), "rb"), &std::fclose);
  if (!file) return std::nullopt;
  std::unique_ptr<X509, decltype(&X509_free)> certificate(PEM_read_X509(file.get(), nullptr, nullptr, nullptr),
                                                          &X509_free);
  if (!certificate) return std::nullopt;
  std::tm when{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate.get()), &when) != 1) return std::nullopt;
  return static_cast<int64_t>(timegm(&when));
}

}  // namespace sas::host::metrics
