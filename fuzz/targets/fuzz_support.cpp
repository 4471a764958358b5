#include "fuzz_support.hpp"

#include <unistd.h>

#include <fstream>
#include <system_error>

namespace sas::fuzz {

namespace {

struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    // /dev/shm when there is one: a target writes a file per input.
    std::error_code ec;
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : std::filesystem::temp_directory_path();
    path = base / ("sas-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

const std::filesystem::path& scratch_dir() {
  static const ScratchDir dir;
  return dir.path;
}

std::filesystem::path write_scratch_file(std::string_view name, const uint8_t* data, std::size_t size) {
  std::filesystem::path file = scratch_dir() / name;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) finding("cannot write the scratch file " + file.string());
  return file;
}

}  // namespace sas::fuzz
