// sas-sim pki: a throw-away test PKI (CA, server, the SAS client identity, refused clients, CRL).
#include <iostream>
#include <options.hpp>
#include <sas/pki/test_pki.hpp>

#include "commands.hpp"

namespace sas::sim::cli {

namespace po = sas::cli::po;

int pki(const std::vector<std::string>& args) {
  po::options_description options("pki options");
  options.add_options()("out", po::value<std::string>()->required(), "directory to write the PEM files into")(
      "days", po::value<int>()->default_value(365), "validity of the certificates, in days");
  int exit_code = 0;
  auto vm = sas::cli::parse_options("sas-sim pki", "--out DIR [--days N]", options, args, exit_code);
  if (!vm) return exit_code;
  sas::pki::TestPkiOptions pki_options;
  pki_options.validity_days = (*vm)["days"].as<int>();
  const std::string dir = (*vm)["out"].as<std::string>();
  sas::pki::write_test_pki(dir, pki_options);
  // The vendor's own client identity, for INT_R03: sas-host presents it to the platform
  // (sas-sim serve accepts CN=localhost,OU=VENDOR by default).
  sas::pki::issue_certificate(dir, "vendor", {"localhost", "VENDOR", false, {}, {}}, pki_options);
  std::cout << "test PKI written to " << dir << ":\n"
            << "  ca.pem              trust this for clients (--client-ca) and servers (--ca)\n"
            << "  server.pem/-key     CN=localhost, for sas-host serve --tls-cert/--tls-key\n"
            << "  client.pem/-key     CN=sas.sante.fr, OU=SAS: the platform (--cert/--key)\n"
            << "  vendor.pem/-key     CN=localhost, OU=VENDOR: sas-host to the platform (--sas-cert/--sas-key)\n"
            << "  crl.pem             revokes client-revoked (--client-crl)\n"
            << "  client-wrong-cn, client-wrong-ou, client-expired, client-revoked, client-other-ca:\n"
            << "                      clients a correct server refuses during the handshake\n";
  return 0;
}

}  // namespace sas::sim::cli
