#include "doctor_settings_cli.hpp"

#include <curl/curl.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>
#include <sstream>

namespace sas::host::cli::doctor_options {

namespace json = boost::json;

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// The message of an {"error":{"status":N,"message":"..."}} body, else the body itself.
std::string error_message(long status, const std::string& body) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  if (!ec && parsed.is_object()) {
    const auto* error = parsed.as_object().if_contains("error");
    if (error != nullptr && error->is_object()) {
      const auto* message = error->as_object().if_contains("message");
      if (message != nullptr && message->is_string()) return std::string(message->as_string());
    }
  }
  const std::string text = trim(body);
  return "the admin API answered HTTP " + std::to_string(status) + (text.empty() ? "" : ": " + text);
}

void write_json(std::string& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.get_object()) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::string(key));
        out += ':';
        write_json(out, item);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        write_json(out, item);
      }
      out += ']';
      return;
    }
    case json::kind::double_: {
      const double d = value.get_double();
      if (!std::isfinite(d)) {
        out += "null";
        return;
      }
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%.6f", d);
      std::string text = buffer;
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
      if (text == "-0") text = "0";
      out += text;
      return;
    }
    default:
      out += json::serialize(value);
  }
}

}  // namespace

AdminClient::AdminClient(std::string base, std::string token, std::string ca_file)
    : base_(std::move(base)), authorization_("Authorization: Bearer " + token), ca_file_(std::move(ca_file)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  global_init();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
  curl_ = curl;
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
  if (!ca_file_.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "sas-host (admin client)");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append_body);
}

AdminClient::~AdminClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

std::string AdminClient::escape(const std::string& value) {
  std::string out;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '.' ||
        u == '_' || u == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

AdminClient::Answer AdminClient::send(const std::string& method, const std::string& path,
                                      const std::optional<json::value>& body) {
  CURL* curl = static_cast<CURL*>(curl_);
  Answer answer;
  char error[CURL_ERROR_SIZE] = {0};
  const std::string url = base_ + path;
  const std::string payload = body ? json::serialize(*body) : std::string();
  curl_slist* headers = curl_slist_append(nullptr, authorization_.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  if (body) headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, static_cast<char*>(error));
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, static_cast<void*>(&answer.body));
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, static_cast<char*>(nullptr));
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (body) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    }
  }
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, static_cast<void*>(nullptr));
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    std::string message = std::string("--admin ") + base_ + ": " + curl_easy_strerror(code);
    if (error[0] != '\0') message += std::string(": ") + error;
    if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
      message += " (check --admin-ca: the CA that signed the host's certificate)";
    }
    throw std::runtime_error(message);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  if (answer.status >= 400) throw RemoteError(answer.status, error_message(answer.status, answer.body));
  return answer;
}

json::value AdminClient::send_json(const std::string& method, const std::string& path,
                                   const std::optional<json::value>& body) {
  const Answer answer = send(method, path, body);
  if (answer.status == 204 || trim(answer.body).empty()) return json::object{};
  boost::system::error_code ec;
  json::value parsed = json::parse(answer.body, ec);
  if (ec) throw std::runtime_error("the admin API answered " + method + " " + path + " with something not JSON");
  return parsed;
}

void add_target_options(po::options_description& options) {
  options.add_options()("store", po::value<std::string>(), "offline: the host's store, e.g. sqlite:PATH")(
      "admin", po::value<std::string>(), "online: a running host's admin API, e.g. https://127.0.0.1:8444")(
      "admin-token-file", po::value<std::string>(), "with --admin: file holding the bearer token")(
      "admin-ca", po::value<std::string>(), "with --admin: CA bundle (PEM) that signed the host's certificate");
}

Target open_target(const po::variables_map& vm) {
  const bool store = vm.count("store") != 0U;
  const bool admin = vm.count("admin") != 0U;
  if (store == admin) throw UsageError("give exactly one of --store URL (offline) and --admin URL (online)");
  Target target;
  if (store) {
    for (const char* key : {"admin-token-file", "admin-ca"}) {
      if (vm.count(key) != 0U) throw UsageError(std::string("--") + key + ": only with --admin");
    }
    target.service =
        std::make_shared<doctor_settings::Service>(std::shared_ptr<Store>(Store::open(vm["store"].as<std::string>())));
    return target;
  }
  const std::string base = vm["admin"].as<std::string>();
  if (base.rfind("https://", 0) != 0 && base.rfind("http://", 0) != 0) {
    throw UsageError("--admin: expected the admin API's URL, e.g. https://127.0.0.1:8444, got '" + base + "'");
  }
  if (vm.count("admin-token-file") == 0U) throw UsageError("--admin-token-file: required with --admin");
  const std::string file = vm["admin-token-file"].as<std::string>();
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UsageError("--admin-token-file " + file + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string token = trim(text.str());
  if (token.empty()) throw UsageError("--admin-token-file " + file + ": empty");
  std::string ca;
  if (vm.count("admin-ca") != 0U) {
    ca = vm["admin-ca"].as<std::string>();
    if (!std::ifstream(ca)) throw UsageError("--admin-ca " + ca + ": cannot be read");
  }
  target.admin = std::make_unique<AdminClient>(base, token, ca);
  return target;
}

std::string practitioner(const po::variables_map& vm) {
  const std::string raw = vm["practitioner"].as<std::string>();
  std::string error;
  auto id = sas::sdk::ids::normalize_practitioner_id(raw, &error);
  if (!id) throw UsageError("--practitioner: '" + raw + "': " + error);
  return id->prefixed;
}

doctor_settings::Clock::time_point instant_flag(const po::variables_map& vm, const char* key) {
  using doctor_settings::Clock;
  const std::string text = vm[key].as<std::string>();
  std::string error;
  auto t = sas::sdk::datetime::parse_fhir(text, &error);
  if (!t) throw UsageError(std::string("--") + key + ": " + error);
  const auto since_epoch = t->time_since_epoch();
  if (since_epoch > std::chrono::duration_cast<std::chrono::milliseconds>(Clock::duration::max()) ||
      since_epoch < std::chrono::duration_cast<std::chrono::milliseconds>(Clock::duration::min())) {
    throw UsageError(std::string("--") + key + ": " + text + " is out of range");
  }
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(since_epoch));
}

doctor_settings::Actor actor(const po::variables_map& vm) {
  doctor_settings::Actor a;
  a.source = "cli";
  if (vm.count("changed-by") != 0U) a.by = vm["changed-by"].as<std::string>();
  if (a.by.empty()) {
    const char* user = std::getenv("USER");
    a.by = user != nullptr && *user != '\0' ? user : "cli";
  }
  return a;
}

std::string json_text(const json::value& value) {
  std::string out;
  write_json(out, value);
  return out;
}

int report_error(const std::string& command, const std::exception& e, int code) {
  std::cerr << command << ": " << e.what() << "\n";
  return code;
}

}  // namespace sas::host::cli::doctor_options
