#include "adapters/cli/config.h"

#include <toml++/toml.h>

#include <set>

#include "engine/log_limits.h"

namespace malpro {
namespace {

constexpr int64_t kMebibyte = 1024 * 1024;

Status UnknownKeys(const toml::table& table, std::string_view prefix,
                   const std::set<std::string_view>& known) {
  for (const auto& [key, value] : table) {
    if (!known.contains(key.str())) {
      std::string field = std::string(prefix) + std::string(key.str());
      return Status::InvalidArgument("config_unknown_key", field, "unknown setting " + field);
    }
  }
  return Status::Ok();
}

template <typename T>
Status Read(const toml::table& table, std::string_view prefix, std::string_view key, T* out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  std::optional<T> value = node->value_exact<T>();
  if (!value) {
    std::string field = std::string(prefix) + std::string(key);
    return Status::InvalidArgument("config_wrong_type", field, field + " has the wrong type");
  }
  *out = *value;
  return Status::Ok();
}

Status ReadPositive(const toml::table& table, std::string_view prefix, std::string_view key,
                    int64_t minimum, int64_t* out) {
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, key, out));
  if (*out < minimum) {
    std::string field = std::string(prefix) + std::string(key);
    return Status::InvalidArgument("config_out_of_range", field,
                                   field + " must be at least " + std::to_string(minimum));
  }
  return Status::Ok();
}

Status ReadLog(const toml::table& table, LogOptions* log) {
  constexpr std::string_view prefix = "log.";
  MALPRO_RETURN_IF_ERROR(UnknownKeys(table, prefix,
                                     {"data_dir", "sync", "idempotency_retention_days",
                                      "write_buffer_mib", "block_cache_mib"}));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "data_dir", &log->data_dir));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "sync", &log->sync));
  MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, "idempotency_retention_days",
                                      idempotency_retention_days_min,
                                      &log->idempotency_retention_days));
  int64_t write_buffer_mib = static_cast<int64_t>(log->write_buffer_bytes) / kMebibyte;
  MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, "write_buffer_mib", 1, &write_buffer_mib));
  log->write_buffer_bytes = static_cast<size_t>(write_buffer_mib * kMebibyte);
  int64_t block_cache_mib = static_cast<int64_t>(log->block_cache_bytes) / kMebibyte;
  MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, "block_cache_mib", 1, &block_cache_mib));
  log->block_cache_bytes = static_cast<size_t>(block_cache_mib * kMebibyte);
  return Status::Ok();
}

}  // namespace

Result<MalproConfig> LoadConfig(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);  // the library reports syntax errors by exception only
  } catch (const toml::parse_error& error) {
    return Status::InvalidArgument(
        "config_syntax", path,
        path + ":" + std::to_string(error.source().begin.line) + ": " +
            std::string(error.description()));
  }
  MALPRO_RETURN_IF_ERROR(UnknownKeys(root, "", {"log"}));
  MalproConfig config;
  if (const toml::node* log = root.get("log")) {
    if (!log->is_table()) {
      return Status::InvalidArgument("config_wrong_type", "log", "log must be a table");
    }
    MALPRO_RETURN_IF_ERROR(ReadLog(*log->as_table(), &config.log));
  }
  return config;
}

}  // namespace malpro
