// The web console's static files (console/ in the repository), read once at start and
// answered from memory at GET / (index.html) and GET /console/<path>. Nothing outside the
// directory can be named: only the files found at start exist.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace malpro {

struct ConsoleFile {
  std::string body;
  std::string content_type;
  std::string etag;  // "\"<first 16 hex digits of its SHA-256>\""
};

class ConsoleFiles {
 public:
  // Every regular file under `dir` but node_modules/ and package*.json, by its path relative
  // to `dir` ("index.html", "vendor/chart.umd.js"). NotFound when `dir` is not a directory;
  // LimitExceeded beyond console_files_max or console_bytes_max.
  static Result<std::unique_ptr<ConsoleFiles>> Load(const std::string& dir);

  // The file at `path` (relative, no leading slash), or null.
  const ConsoleFile* Find(std::string_view path) const;
  size_t size() const { return files_.size(); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::map<std::string, ConsoleFile, std::less<>> files_;
};

// The content type answered for a file name's extension; application/octet-stream otherwise.
std::string_view ConsoleContentType(std::string_view name);

}  // namespace malpro
