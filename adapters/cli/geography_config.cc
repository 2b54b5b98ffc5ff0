#include "adapters/cli/geography_config.h"

#include <toml++/toml.h>

#include <set>
#include <utility>
#include <vector>

#include "engine/error_codes.h"

namespace malpro {
namespace {

constexpr std::string_view kKecamatanKey = "kecamatan";

// A refusal about `field` of the file at `path`.
Status FileError(const std::string& path, std::string_view error_code, std::string_view field,
                 std::string_view message) {
  return Status::InvalidArgument(error_code, field, path + ": " + std::string(message));
}

// `status` with the file named in its message, keeping its category and code.
Status InFile(const std::string& path, const Status& status) {
  const std::string message = path + ": " + status.message();
  if (status.code() == StatusCode::kLimitExceeded) {
    return Status::LimitExceeded(status.error_code(), status.field(), message);
  }
  return Status::InvalidArgument(status.error_code(), status.field(), message);
}

Status UnknownKeys(const std::string& path, const toml::table& table, std::string_view prefix,
                   const std::set<std::string_view>& known) {
  for (const auto& [key, value] : table) {
    if (!known.contains(key.str())) {
      const std::string field = std::string(prefix) + std::string(key.str());
      return FileError(path, errc::kConfigUnknownKey, field, "unknown key " + field);
    }
  }
  return Status::Ok();
}

// The node at `key` of `table`, which must be present.
Result<const toml::node*> Required(const std::string& path, const toml::table& table,
                                   const std::string& prefix, std::string_view key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    const std::string field = prefix + std::string(key);
    return FileError(path, errc::kConfigMissingKey, field, field + " is missing");
  }
  return node;
}

Result<std::string> ReadString(const std::string& path, const toml::node& node,
                               const std::string& field) {
  std::optional<std::string> value = node.value_exact<std::string>();
  if (!value) return FileError(path, errc::kConfigWrongType, field, field + " must be a string");
  return std::move(*value);
}

Result<Kecamatan> ReadKecamatan(const std::string& path, const toml::table& table,
                                const std::string& prefix) {
  MALPRO_RETURN_IF_ERROR(UnknownKeys(path, table, prefix, {"name", "kelurahan"}));
  Kecamatan kecamatan;
  Result<const toml::node*> name = Required(path, table, prefix, "name");
  if (!name.ok()) return name.status();
  Result<std::string> name_text = ReadString(path, **name, prefix + "name");
  if (!name_text.ok()) return name_text.status();
  kecamatan.name = std::move(name_text).value();

  const std::string list_field = prefix + "kelurahan";
  Result<const toml::node*> list = Required(path, table, prefix, "kelurahan");
  if (!list.ok()) return list.status();
  const toml::array* array = (*list)->as_array();
  if (array == nullptr) {
    return FileError(path, errc::kConfigWrongType, list_field,
                     list_field + " must be an array of strings");
  }
  for (size_t i = 0; i < array->size(); ++i) {
    Result<std::string> kelurahan =
        ReadString(path, *array->get(i), list_field + "[" + std::to_string(i) + "]");
    if (!kelurahan.ok()) return kelurahan.status();
    kecamatan.kelurahan.push_back(std::move(kelurahan).value());
  }
  return kecamatan;
}

Result<std::vector<Kecamatan>> ReadCity(const std::string& path, const toml::table& root) {
  MALPRO_RETURN_IF_ERROR(UnknownKeys(path, root, "", {kKecamatanKey}));
  Result<const toml::node*> node = Required(path, root, "", kKecamatanKey);
  if (!node.ok()) return node.status();
  const toml::array* array = (*node)->as_array();
  const std::string field(kKecamatanKey);
  // An empty array is not an array of tables to toml++; Geography::Create refuses it.
  if (array == nullptr || (!array->empty() && !array->is_array_of_tables())) {
    return FileError(path, errc::kConfigWrongType, field,
                     field + " must be an array of tables ([[kecamatan]])");
  }
  // Bounded before reading the tables; Geography::Create checks every other limit.
  if (array->size() > geography_kecamatan_max) {
    const std::string message =
        field + ": at most " + std::to_string(geography_kecamatan_max) + " are allowed";
    return InFile(path, Status::LimitExceeded(errc::kGeographyTooLarge, field, message));
  }
  std::vector<Kecamatan> city;
  for (size_t i = 0; i < array->size(); ++i) {
    const std::string prefix = field + "[" + std::to_string(i) + "].";
    Result<Kecamatan> kecamatan = ReadKecamatan(path, *array->get(i)->as_table(), prefix);
    if (!kecamatan.ok()) return kecamatan.status();
    city.push_back(std::move(kecamatan).value());
  }
  return city;
}

}  // namespace

Result<Geography> LoadGeography(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);  // the library reports syntax errors by exception only
  } catch (const toml::parse_error& error) {
    const auto line = error.source().begin.line;  // 0 when the file could not be read
    const std::string where = line > 0 ? path + ":" + std::to_string(line) : path;
    return Status::InvalidArgument(errc::kConfigSyntax, path,
                                   where + ": " + std::string(error.description()));
  }
  Result<std::vector<Kecamatan>> city = ReadCity(path, root);
  if (!city.ok()) return city.status();
  Result<Geography> geography = Geography::Create(std::move(city).value());
  if (!geography.ok()) return InFile(path, geography.status());
  return geography;
}

}  // namespace malpro
