// The doctor's panel (docs/doctor-panel.md) as the admin listener serves it: the files of
// host/panel/assets, embedded into the host at build time (embed_assets.cmake), their types,
// and the headers of every panel answer (a strict Content-Security-Policy: no inline script,
// nothing from elsewhere, framed only by the origins of `panel-frame-ancestors`).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sas::host::panel {

// The URL prefix of the panel's files on the admin listener; "/panel/" itself is index.html.
inline constexpr std::string_view kPrefix = "/panel/";
inline constexpr std::string_view kIndex = "index.html";

// One file of host/panel/assets: its path there ("index.html", "img/logo.svg") and its bytes.
struct EmbeddedAsset {
  std::string_view path;
  std::string_view bytes;
};

// Every embedded file, sorted by path (generated at build time).
std::span<const EmbeddedAsset> embedded_assets();

struct Asset {
  std::string_view path;
  std::string_view bytes;
  std::string_view content_type;
};

// The file served at `url_path` (the request's path, without its query): "/panel/" is
// index.html, "/panel/panel.js" is panel.js; anything else (a directory, a file that is not
// embedded, an escaped or dotted path) is nullopt.
std::optional<Asset> find_asset(std::string_view url_path);

// The Content-Type of a file by its extension ("text/javascript; charset=utf-8" for .js);
// application/octet-stream for an unknown one.
std::string_view content_type_of(std::string_view path);

// `panel-frame-ancestors`' default: the panel cannot be framed until the operator names the
// vendor agenda's origin(s). ('self' would be no better: the admin listener serves no page that
// frames the panel, and a vendor's agenda is another origin.)
inline constexpr std::string_view kDefaultFrameAncestors = "'none'";

// The CSP frame-ancestors source list of `panel-frame-ancestors`, normalised (lower-case, one
// space between origins). Each space-separated item is an origin https://HOST[:PORT] (a DNS
// name, an IPv4 address or a bracketed IPv6 address; no path, query, user or wildcard), or
// http://HOST[:PORT] for a loopback host only (localhost, 127.0.0.1, [::1]: development), or the
// keyword 'self'; or the whole value is 'none'. Throws std::invalid_argument naming the item.
std::string parse_frame_ancestors(std::string_view text);

// default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src
// 'self'; base-uri 'none'; form-action 'none'; frame-ancestors FRAME_ANCESTORS
std::string content_security_policy(std::string_view frame_ancestors);

// The headers of every panel answer: the Content-Security-Policy, X-Content-Type-Options:
// nosniff, Referrer-Policy: no-referrer, and Cache-Control: no-store for the API's answers
// (`api`) or no-cache for the files (revalidated: an upgraded host serves new ones).
std::vector<std::pair<std::string, std::string>> security_headers(std::string_view frame_ancestors, bool api);

}  // namespace sas::host::panel
