// Inspecting a plugin file safely: a bounds-checked reader of the ELF headers, the dynamic
// symbol table and the manifest section. Nothing here maps the file executable or runs it,
// so a truncated, foreign or hostile file only ever produces a PluginError.
#include <elf.h>

#include <google/protobuf/stubs/common.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sas/host/plugin_loader/manifest.hpp>
#include <sstream>

namespace sas::host::plugin_loader {
namespace {

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
constexpr const char* kHostMachineName = "x86-64";
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
constexpr const char* kHostMachineName = "aarch64";
#else
#error "add this architecture's ELF machine code"
#endif

const char* machine_name(uint16_t machine) {
  switch (machine) {
    case EM_X86_64:
      return "x86-64";
    case EM_AARCH64:
      return "aarch64";
    case EM_386:
      return "i386";
    case EM_ARM:
      return "arm";
    case EM_RISCV:
      return "riscv";
    case EM_PPC64:
      return "ppc64";
    case EM_S390:
      return "s390";
    default:
      return "unknown";
  }
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& why) {
  throw PluginError(SAS_ERR_INVALID_ARGUMENT, path.string() + ": " + why);
}

class ElfFile {
 public:
  ElfFile(std::filesystem::path path, std::string bytes) : path_(std::move(path)), bytes_(std::move(bytes)) {}

  template <typename T>
  T read(uint64_t offset, const char* what) const {
    if (offset > bytes_.size() || bytes_.size() - offset < sizeof(T)) {
      fail(path_, std::string("truncated or corrupt file: ") + what + " lies beyond its end (" +
                      std::to_string(bytes_.size()) + " bytes)");
    }
    T value;
    std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    return value;
  }

  std::string_view range(uint64_t offset, uint64_t size, const char* what) const {
    if (offset > bytes_.size() || bytes_.size() - offset < size) {
      fail(path_, std::string("truncated or corrupt file: ") + what + " lies beyond its end (" +
                      std::to_string(bytes_.size()) + " bytes)");
    }
    return std::string_view(bytes_.data() + offset, size);
  }

  size_t size() const { return bytes_.size(); }

 private:
  std::filesystem::path path_;
  std::string bytes_;
};

std::string c_string_at(std::string_view table, uint64_t offset) {
  if (offset >= table.size()) return {};
  auto rest = table.substr(offset);
  return std::string(rest.substr(0, std::min(rest.find('\0'), rest.size())));
}

}  // namespace

bool PluginManifest::declares_flow(const std::string& flow) const {
  return std::find(flows.begin(), flows.end(), flow) != flows.end();
}

const char* status_name(sas_status status) {
  switch (status) {
    case SAS_OK:
      return "SAS_OK";
    case SAS_ERR_INVALID_ARGUMENT:
      return "SAS_ERR_INVALID_ARGUMENT";
    case SAS_ERR_NOT_FOUND:
      return "SAS_ERR_NOT_FOUND";
    case SAS_ERR_ALREADY_EXISTS:
      return "SAS_ERR_ALREADY_EXISTS";
    case SAS_ERR_UNIMPLEMENTED:
      return "SAS_ERR_UNIMPLEMENTED";
    case SAS_ERR_INCOMPATIBLE_VERSION:
      return "SAS_ERR_INCOMPATIBLE_VERSION";
    case SAS_ERR_DEADLINE_EXCEEDED:
      return "SAS_ERR_DEADLINE_EXCEEDED";
    case SAS_ERR_CANCELLED:
      return "SAS_ERR_CANCELLED";
    case SAS_ERR_UNAVAILABLE:
      return "SAS_ERR_UNAVAILABLE";
    case SAS_ERR_INIT_FAILED:
      return "SAS_ERR_INIT_FAILED";
    case SAS_ERR_INTERNAL:
      return "SAS_ERR_INTERNAL";
    default:
      return "SAS_ERR_UNKNOWN_STATUS";
  }
}

PluginManifest parse_manifest(const std::string& text) {
  PluginManifest manifest;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty()) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw PluginError(SAS_ERR_INVALID_ARGUMENT,
                        "manifest line " + std::to_string(number) + " is not key=value: \"" + line + "\"");
    }
    manifest.entries[line.substr(0, eq)] = line.substr(eq + 1);
  }
  auto required = [&](const char* key) -> const std::string& {
    auto it = manifest.entries.find(key);
    if (it == manifest.entries.end() || it->second.empty()) {
      throw PluginError(SAS_ERR_INVALID_ARGUMENT, std::string("manifest has no '") + key + "'");
    }
    return it->second;
  };
  manifest.name = required("name");
  manifest.vendor = required("vendor");
  manifest.version = required("version");
  manifest.threading = required("threading");
  if (manifest.threading != "serialized" && manifest.threading != "free-threaded") {
    throw PluginError(SAS_ERR_INVALID_ARGUMENT,
                      "manifest 'threading' must be serialized or free-threaded, not \"" + manifest.threading + "\"");
  }
  const std::string& abi = required("abi");
  unsigned major = 0, minor = 0;
  char extra = 0;
  if (std::sscanf(abi.c_str(), "%u.%u%c", &major, &minor, &extra) != 2) {
    throw PluginError(SAS_ERR_INVALID_ARGUMENT, "manifest 'abi' must be major.minor, not \"" + abi + "\"");
  }
  manifest.abi_major = major;
  manifest.abi_minor = minor;
  if (auto it = manifest.entries.find("protobuf"); it != manifest.entries.end()) {
    const std::string& version = it->second;
    unsigned long value = 0;
    const bool digits = !version.empty() && version.size() <= 9 &&
                        std::all_of(version.begin(), version.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) value = std::stoul(version);
    if (!digits || value < 1000000) {
      throw PluginError(
          SAS_ERR_INVALID_ARGUMENT,
          "manifest 'protobuf' must be a GOOGLE_PROTOBUF_VERSION such as 3021012, not \"" + version + "\"");
    }
    manifest.protobuf_version = static_cast<uint32_t>(value);
  }
  std::istringstream flows(manifest.entries["flows"]);
  std::string flow;
  while (std::getline(flows, flow, ',')) {
    if (!flow.empty()) manifest.flows.push_back(flow);
  }
  return manifest;
}

std::string protobuf_version_text(uint32_t version) {
  return std::to_string(version / 1000000) + "." + std::to_string(version / 1000 % 1000) + "." +
         std::to_string(version % 1000);
}

uint32_t this_process_protobuf_version() { return GOOGLE_PROTOBUF_VERSION; }

PluginManifest inspect_plugin_file(const std::filesystem::path& path, ProtobufCheck protobuf) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(path, "no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot be read");
  std::ostringstream content;
  content << in.rdbuf();
  ElfFile elf(path, content.str());

  if (elf.size() < EI_NIDENT || std::memcmp(elf.range(0, SELFMAG, "ELF magic").data(), ELFMAG, SELFMAG) != 0) {
    fail(path, "not a shared library (no ELF header)");
  }
  auto ident = elf.range(0, EI_NIDENT, "ELF identification");
  if (ident[EI_CLASS] != ELFCLASS64 || ident[EI_DATA] != ELFDATA2LSB) {
    fail(path, "built for another architecture (not 64-bit little-endian ELF); this host is " +
                   std::string(kHostMachineName));
  }
  auto header = elf.read<Elf64_Ehdr>(0, "ELF header");
  if (header.e_machine != kHostMachine) {
    fail(path, std::string("built for ") + machine_name(header.e_machine) + ", this host is " + kHostMachineName);
  }
  if (header.e_type != ET_DYN) fail(path, "an ELF file but not a shared library (e_type is not ET_DYN)");
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shnum == 0) fail(path, "no section table");
  if (header.e_shstrndx >= header.e_shnum) fail(path, "corrupt section name table index");

  std::vector<Elf64_Shdr> sections(header.e_shnum);
  for (uint16_t i = 0; i < header.e_shnum; ++i) {
    sections[i] = elf.read<Elf64_Shdr>(header.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr), "section table");
  }
  const auto& names_header = sections[header.e_shstrndx];
  auto section_names = elf.range(names_header.sh_offset, names_header.sh_size, "section names");

  std::string_view manifest_bytes;
  bool has_manifest = false;
  bool exports_entry = false;
  for (const auto& section : sections) {
    std::string name = c_string_at(section_names, section.sh_name);
    if (name == SAS_PLUGIN_MANIFEST_SECTION) {
      manifest_bytes = elf.range(section.sh_offset, section.sh_size, "manifest section");
      has_manifest = true;
    }
    if (section.sh_type == SHT_DYNSYM) {
      if (section.sh_link >= sections.size() || section.sh_entsize != sizeof(Elf64_Sym)) {
        fail(path, "corrupt dynamic symbol table");
      }
      const auto& strings_header = sections[section.sh_link];
      auto strings = elf.range(strings_header.sh_offset, strings_header.sh_size, "dynamic symbol names");
      elf.range(section.sh_offset, section.sh_size, "dynamic symbol table");
      for (uint64_t offset = 0; offset + sizeof(Elf64_Sym) <= section.sh_size; offset += sizeof(Elf64_Sym)) {
        auto symbol = elf.read<Elf64_Sym>(section.sh_offset + offset, "dynamic symbol");
        if (symbol.st_shndx != SHN_UNDEF && ELF64_ST_TYPE(symbol.st_info) == STT_FUNC &&
            ELF64_ST_BIND(symbol.st_info) == STB_GLOBAL &&
            c_string_at(strings, symbol.st_name) == SAS_PLUGIN_ENTRY_SYMBOL) {
          exports_entry = true;
        }
      }
    }
  }
  if (!exports_entry) {
    fail(path, std::string("not a SAS plugin: it does not export the entry point '") + SAS_PLUGIN_ENTRY_SYMBOL + "'");
  }
  if (!has_manifest) {
    fail(path, std::string("not a SAS plugin: no '") + SAS_PLUGIN_MANIFEST_SECTION + "' manifest section");
  }
  auto nul = manifest_bytes.find('\0');
  if (nul == std::string_view::npos) fail(path, "manifest is not NUL-terminated");
  PluginManifest manifest;
  try {
    manifest = parse_manifest(std::string(manifest_bytes.substr(0, nul)));
  } catch (const PluginError& e) {
    fail(path, e.what());
  }
  if (manifest.abi_major != SAS_ABI_VERSION_MAJOR) {
    throw PluginError(SAS_ERR_INCOMPATIBLE_VERSION,
                      path.string() + ": incompatible ABI: plugin '" + manifest.name + "' was built for ABI " +
                          std::to_string(manifest.abi_major) + "." + std::to_string(manifest.abi_minor) +
                          ", this host speaks " + std::to_string(SAS_ABI_VERSION_MAJOR) + ".0 to " +
                          std::to_string(SAS_ABI_VERSION_MAJOR) + "." + std::to_string(SAS_ABI_VERSION_MINOR));
  }
  // The plugin's generated-code calls and inline protobuf code run against this process's
  // libprotobuf and libsasplugin_proto: a plugin compiled against another major.minor would run
  // against data structures it was not compiled for. Patch releases of one minor share them
  // (Debian keeps one soname, libprotobuf.so.32, for all of 3.21).
  const uint32_t ours = this_process_protobuf_version();
  if (protobuf == ProtobufCheck::this_process && manifest.protobuf_version != 0 &&
      manifest.protobuf_version / 1000 != ours / 1000) {
    throw PluginError(SAS_ERR_INCOMPATIBLE_VERSION,
                      path.string() + ": incompatible protobuf: plugin '" + manifest.name +
                          "' was compiled against protobuf " + protobuf_version_text(manifest.protobuf_version) +
                          ", but the process that loads it runs protobuf " + protobuf_version_text(ours) +
                          " (with libsasplugin_proto), which the plugin would use: build it against protobuf " +
                          std::to_string(ours / 1000000) + "." + std::to_string(ours / 1000 % 1000) +
                          ".x (docs/plugin-guide.md, \"Protobuf\")");
  }
  return manifest;
}

}  // namespace sas::host::plugin_loader
