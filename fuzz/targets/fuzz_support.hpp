// What the fuzz targets share: how a target reports a finding (an outcome the code under test
// documents as impossible), and the files a target needs (the IG package, a scratch directory).
// A target is built twice from the same source: with libFuzzer (SAS_FUZZ, scripts/fuzz) and with
// replay_main.cpp (the fuzz-replay ctest tests, which run every seed and regression once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace sas::fuzz {

// The bytes as text (the parsers take any bytes, NUL included).
inline std::string_view text(const uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A finding: the message on stderr, then abort(), which libFuzzer (and ctest) report as a crash
// with the input that caused it.
[[noreturn]] inline void finding(std::string_view what) {
  std::fprintf(stderr, "FUZZ FINDING: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

inline void require(bool condition, std::string_view what) {
  if (!condition) finding(what);
}

// What an input did, on stderr when SAS_FUZZ_VERBOSE is set (to see how deep the seeds reach).
inline void note(std::string_view what) {
  static const bool verbose = std::getenv("SAS_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "  %.*s\n", static_cast<int>(what.size()), what.data());
}

// The unpacked SAS IG package: $SAS_IG_DIR, else the one the build was configured with.
inline std::filesystem::path ig_dir() {
  if (const char* dir = std::getenv("SAS_IG_DIR"); dir != nullptr && *dir != '\0') return dir;
  return SAS_FUZZ_IG_DIR;
}

// A directory of this process for the targets whose entry point reads a file; removed at exit.
const std::filesystem::path& scratch_dir();

// Writes the input to `name` in scratch_dir() and returns its path.
std::filesystem::path write_scratch_file(std::string_view name, const uint8_t* data, std::size_t size);

}  // namespace sas::fuzz
