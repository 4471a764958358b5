#include <sas_test/browser.hpp>

#include <stdexcept>

namespace sas::test {
namespace {

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<Page*>(user)->body.append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* page = static_cast<Page*>(user);
  std::string line(data, size * n);
  if (line.starts_with("HTTP/")) page->body.clear();  // keep the last response's body only
  page->headers.push_back(line);
  return size * n;
}

}  // namespace

Browser::Browser() : curl_(curl_easy_init()) {
  curl_easy_setopt(curl_, CURLOPT_COOKIEFILE, "");  // the cookie engine, in memory
  curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl_, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &on_header);
}

Browser::~Browser() { curl_easy_cleanup(curl_); }

Page Browser::get(const std::string& url) {
  curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
  return perform(url);
}

Page Browser::post(const std::string& url, const std::string& form) {
  curl_easy_setopt(curl_, CURLOPT_POST, 1L);
  curl_easy_setopt(curl_, CURLOPT_COPYPOSTFIELDS, form.c_str());
  return perform(url);
}

std::string Browser::escape(const std::string& text) {
  char* e = curl_easy_escape(curl_, text.data(), static_cast<int>(text.size()));
  std::string out = e;
  curl_free(e);
  return out;
}

Page Browser::perform(const std::string& url) {
  Page page;
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &page);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &page);
  CURLcode rc = curl_easy_perform(curl_);
  if (rc != CURLE_OK) throw std::runtime_error(std::string("curl: ") + curl_easy_strerror(rc) + " on " + url);
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &page.status);
  char* effective = nullptr;
  curl_easy_getinfo(curl_, CURLINFO_EFFECTIVE_URL, &effective);
  page.url = effective != nullptr ? effective : "";
  return page;
}

}  // namespace sas::test
