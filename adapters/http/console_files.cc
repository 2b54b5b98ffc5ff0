#include "adapters/http/console_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error_codes.h"
#include "engine/hash.h"

namespace malpro {
namespace {

// A console is a few pages, scripts and a chart library: far below these.
constexpr size_t console_files_max = 2'000;
constexpr size_t console_bytes_max = 64u << 20;

bool Skipped(const std::filesystem::path& relative) {
  const std::string first = relative.begin()->string();
  const std::string name = relative.filename().string();
  return first == "node_modules" || (name.starts_with("package") && name.ends_with(".json")) ||
         name.starts_with(".");
}

}  // namespace

std::string_view ConsoleContentType(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  };
  for (const auto& [extension, type] : types) {
    if (name.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

Result<std::unique_ptr<ConsoleFiles>> ConsoleFiles::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return Status::NotFound(errc::kConfigInvalid, "http.console_dir",
                            "http.console_dir " + dir + " is not a directory");
  }
  auto files = std::make_unique<ConsoleFiles>();
  files->dir_ = dir;
  size_t bytes = 0;
  for (auto it = fs::recursive_directory_iterator(dir, error); !error && it != fs::end(it);
       it.increment(error)) {
    const fs::path relative = fs::relative(it->path(), dir, error);
    if (error) break;
    if (Skipped(relative)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    ConsoleFile file{body.str(), std::string(ConsoleContentType(relative.string())), ""};
    file.etag = "\"" + HashToHex(Sha256(file.body)).substr(0, 16) + "\"";
    bytes += file.body.size();
    files->files_.emplace(relative.generic_string(), std::move(file));
    if (files->files_.size() > console_files_max || bytes > console_bytes_max) {
      return Status::LimitExceeded(errc::kConfigInvalid, "http.console_dir",
                                   "http.console_dir " + dir + " holds more than " +
                                       std::to_string(console_files_max) + " files or " +
                                       std::to_string(console_bytes_max >> 20) + " MiB");
    }
  }
  if (error) return Status::IOError("reading http.console_dir " + dir + ": " + error.message());
  return files;
}

const ConsoleFile* ConsoleFiles::Find(std::string_view path) const {
  auto found = files_.find(path);
  return found == files_.end() ? nullptr : &found->second;
}

}  // namespace malpro
