#include "sas/host/panel/assets.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace sas::host::panel {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool dns_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// A DNS name or an IPv4 address (both dot-separated labels), lower-case already.
bool dns_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  while (true) {
    const auto dot = host.find('.');
    if (!dns_label(host.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    host.remove_prefix(dot + 1);
  }
}

bool bracketed_ipv6(std::string_view host) {
  if (host.size() < 4 || host.front() != '[' || host.back() != ']') return false;
  const std::string_view inside = host.substr(1, host.size() - 2);
  return inside.find(':') != std::string_view::npos && std::all_of(inside.begin(), inside.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
         });
}

// One origin of the list, normalised; throws naming it.
std::string origin(std::string_view item) {
  const std::string text = lower(item);
  auto refuse = [&](const std::string& why) {
    return std::invalid_argument("panel-frame-ancestors: '" + std::string(item) + "': " + why);
  };
  std::string_view rest = text;
  std::string scheme;
  if (rest.starts_with("https://")) {
    scheme = "https";
  } else if (rest.starts_with("http://")) {
    scheme = "http";
  } else {
    throw refuse("expected an origin https://HOST[:PORT], 'self', or 'none' alone");
  }
  rest.remove_prefix(scheme.size() + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);  // "https://agenda.example.fr/" is the same origin
  if (rest.find_first_of("/?#@*;,'\"\\") != std::string_view::npos)
    throw refuse("an origin has no path, query, user or wildcard");
  std::string_view host = rest;
  std::string_view port;
  const auto bracket = rest.rfind(']');
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number < 1 || number > 65535)
      throw refuse("the port must be a number from 1 to 65535");
  }
  if (!dns_name(host) && !bracketed_ipv6(host)) throw refuse("'" + std::string(host) + "' is not a host name");
  if (scheme == "http" && host != "localhost" && host != "127.0.0.1" && host != "[::1]")
    throw refuse("http:// only for a loopback host (localhost, 127.0.0.1, [::1]); use https://");
  return scheme + "://" + std::string(host) + (port.empty() ? "" : ":" + std::string(port));
}

}  // namespace

std::optional<Asset> find_asset(std::string_view url_path) {
  if (!url_path.starts_with(kPrefix)) return std::nullopt;
  std::string_view path = url_path.substr(kPrefix.size());
  if (path.empty()) path = kIndex;
  for (const EmbeddedAsset& asset : embedded_assets()) {
    if (asset.path == path) return Asset{asset.path, asset.bytes, content_type_of(asset.path)};
  }
  return std::nullopt;
}

std::string_view content_type_of(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
  };
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    const std::string extension = lower(path.substr(dot));
    for (const auto& [ext, type] : kTypes) {
      if (ext == extension) return type;
    }
  }
  return "application/octet-stream";
}

std::string parse_frame_ancestors(std::string_view text) {
  std::vector<std::string> items;
  std::size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at])) != 0) ++at;
    std::size_t end = at;
    while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end])) == 0) ++end;
    if (end > at) items.emplace_back(text.substr(at, end - at));
    at = end;
  }
  if (items.empty()) throw std::invalid_argument("panel-frame-ancestors: empty (give 'none' to forbid framing)");
  std::string normalised;
  for (const std::string& item : items) {
    const std::string keyword = lower(item);
    std::string source;
    if (keyword == "'none'") {
      if (items.size() != 1)
        throw std::invalid_argument("panel-frame-ancestors: 'none' cannot be combined with origins");
      source = keyword;
    } else if (keyword == "'self'") {
      source = keyword;
    } else {
      source = origin(item);
    }
    normalised += (normalised.empty() ? "" : " ") + source;
  }
  return normalised;
}

std::string content_security_policy(std::string_view frame_ancestors) {
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
         "base-uri 'none'; form-action 'none'; frame-ancestors " +
         std::string(frame_ancestors);
}

std::vector<std::pair<std::string, std::string>> security_headers(std::string_view frame_ancestors, bool api) {
  return {{"Content-Security-Policy", content_security_policy(frame_ancestors)},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"Cache-Control", api ? "no-store" : "no-cache"}};
}

}  // namespace sas::host::panel
