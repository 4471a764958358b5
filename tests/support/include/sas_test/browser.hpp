// A browser for end-to-end tests of web pages: libcurl with an in-memory cookie engine,
// following redirects, keeping the final URL, the last body and every response's headers.
#pragma once

#include <curl/curl.h>

#include <string>
#include <vector>

namespace sas::test {

struct Page {
  long status = 0;
  std::string url;                   // after redirects
  std::string body;                  // of the last response
  std::vector<std::string> headers;  // of every response, in order
};

class Browser {
 public:
  Browser();
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  Page get(const std::string& url);
  Page post(const std::string& url, const std::string& form);  // application/x-www-form-urlencoded
  std::string escape(const std::string& text);                 // for a form value

 private:
  Page perform(const std::string& url);
  CURL* curl_;
};

}  // namespace sas::test
