// Small text helpers of the sample web app: form and query decoding, cookies, HTML escaping.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sas::sample::agenda_web {

using Parameters = std::vector<std::pair<std::string, std::string>>;

// Percent-decoding with '+' as space (application/x-www-form-urlencoded); nullopt on a
// malformed escape.
std::optional<std::string> form_decode(std::string_view raw);

// Percent-encodes everything but unreserved characters (RFC 3986).
std::string url_encode(std::string_view text);

// "a=1&b=2" (a form body or a raw query) into decoded pairs; malformed items are dropped.
Parameters parse_form(std::string_view raw);

// The first value of `name`, if any.
std::optional<std::string> first(const Parameters& parameters, std::string_view name);

// The value of cookie `name` in a Cookie header ("a=1; b=2").
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

std::string html_escape(std::string_view text);

}  // namespace sas::sample::agenda_web
