// A client of the admin API (docs/admin-api.md) for the command-line tools: one HTTPS request
// with libcurl, the bearer token and/or a client certificate, JSON in and out.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sas::host::admin_api {

struct ClientOptions {
  std::string base;       // https://HOST:PORT of `sas-host serve --admin-listen`
  std::string token;      // sent as `Authorization: Bearer TOKEN` when not empty
  std::string ca_file;    // CAs for the server's certificate (PEM); empty: the system store
  std::string cert_file;  // optional client certificate (PEM), for an admin allow-list
  std::string key_file;   // its key
  std::chrono::milliseconds timeout{30000};
};

struct ClientAnswer {
  long status = 0;    // 0: no HTTP answer (see error)
  std::string error;  // libcurl's reason when status is 0
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case

  // The message of an error answer ({"error":{"message":...}}), else the body or the error.
  std::string message() const;
};

// METHOD base + path (path starts with "/admin/v1/..." and is sent as given); a non-empty body
// goes as application/json. Never throws for network or HTTP errors.
ClientAnswer request(const ClientOptions& options, std::string_view method, std::string_view path,
                     std::string_view body = {});

}  // namespace sas::host::admin_api
