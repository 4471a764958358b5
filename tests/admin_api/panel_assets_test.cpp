// The doctor's panel's files as embedded at build time (host/panel/embed_assets.cmake), their
// types, and the `panel-frame-ancestors` values accepted and refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sas/host/panel/assets.hpp>
#include <sas_test/support.hpp>
#include <stdexcept>

namespace {

namespace fs = std::filesystem;
namespace panel = sas::host::panel;
using testing::HasSubstr;

TEST(PanelAssets, EveryFileOfTheAssetsFolderIsEmbeddedByteForByte) {
  const fs::path assets = sas::test::source_dir() / "host/panel/assets";
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(assets)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string relative = fs::relative(entry.path(), assets).generic_string();
    const auto asset = panel::find_asset("/panel/" + relative);
    ASSERT_TRUE(asset.has_value()) << relative;
    EXPECT_EQ(asset->bytes, sas::test::read_file(entry.path())) << relative;
  }
  EXPECT_EQ(panel::embedded_assets().size(), files);
  ASSERT_TRUE(panel::find_asset("/panel/").has_value());
  EXPECT_EQ(panel::find_asset("/panel/")->path, "index.html");
  for (const char* path : {"/panel", "/panel/nothing.js", "/panel/../panel/index.html", "/panel//index.html",
                           "/panel/%69ndex.html", "/other/index.html", "/panel/index.html/"}) {
    EXPECT_FALSE(panel::find_asset(path).has_value()) << path;
  }
}

TEST(PanelAssets, TypesByExtension) {
  EXPECT_EQ(panel::content_type_of("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(panel::content_type_of("panel.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(panel::content_type_of("panel.css"), "text/css; charset=utf-8");
  EXPECT_EQ(panel::content_type_of("img/logo.SVG"), "image/svg+xml");
  EXPECT_EQ(panel::content_type_of("fonts/a.woff2"), "font/woff2");
  EXPECT_EQ(panel::content_type_of("LICENSE"), "application/octet-stream");
  EXPECT_EQ(panel::content_type_of("dir.js/file"), "application/octet-stream");
}

TEST(PanelAssets, FrameAncestorsAreOriginsNormalised) {
  EXPECT_EQ(panel::parse_frame_ancestors("'none'"), "'none'");
  EXPECT_EQ(panel::parse_frame_ancestors(" 'SELF'  HTTPS://Agenda.Example.fr/ "), "'self' https://agenda.example.fr");
  EXPECT_EQ(panel::parse_frame_ancestors("https://agenda.example.fr:8443 http://localhost:8080 http://127.0.0.1"),
            "https://agenda.example.fr:8443 http://localhost:8080 http://127.0.0.1");
  EXPECT_EQ(panel::parse_frame_ancestors("https://[2001:db8::1]:443 http://[::1]:3000"),
            "https://[2001:db8::1]:443 http://[::1]:3000");
  const std::pair<const char*, const char*> refused[] = {
      {"", "empty"},
      {"'none' 'self'", "'none' cannot be combined"},
      {"agenda.example.fr", "expected an origin"},
      {"ftp://agenda.example.fr", "expected an origin"},
      {"https://agenda.example.fr/panel", "no path"},
      {"https://*.example.fr", "wildcard"},
      {"https://user@agenda.example.fr", "no path, query, user"},
      {"https://agenda.example.fr;script-src", "no path, query, user"},
      {"https://agenda.example.fr:0", "port"},
      {"https://agenda.example.fr:70000", "port"},
      {"https://agenda.example.fr:", "port"},
      {"https://-agenda.example.fr", "not a host name"},
      {"https://agenda..example.fr", "not a host name"},
      {"http://agenda.example.fr", "loopback"},
      {"'unsafe-inline'", "expected an origin"},
  };
  for (const auto& [text, why] : refused) {
    try {
      panel::parse_frame_ancestors(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("panel-frame-ancestors")) << text;
      EXPECT_THAT(e.what(), HasSubstr(why)) << text;
    }
  }
}

TEST(PanelAssets, TheSecurityHeaders) {
  const auto headers = panel::security_headers("https://agenda.example.fr", true);
  ASSERT_EQ(headers.size(), 4U);
  EXPECT_EQ(headers[0].first, "Content-Security-Policy");
  EXPECT_EQ(headers[0].second,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors https://agenda.example.fr");
  EXPECT_EQ(headers[3], (std::pair<std::string, std::string>{"Cache-Control", "no-store"}));
  EXPECT_EQ(panel::security_headers("'none'", false)[3].second, "no-cache");
}

}  // namespace
