#include "engine/geography.h"

#include <set>
#include <utility>

#include "engine/assert.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// "kecamatan[2].name" or "kecamatan[2].kelurahan[5]": the field in the list's own terms.
std::string KecamatanField(size_t index) { return "kecamatan[" + std::to_string(index) + "]"; }

Status CheckName(std::string_view name, const std::string& field) {
  if (name.empty()) {
    return Status::InvalidArgument(errc::kGeographyNameInvalid, field,
                                   field + ": must not be empty");
  }
  if (name.size() > geography_name_bytes_max) {
    return Status::InvalidArgument(
        errc::kGeographyNameInvalid, field,
        field + ": must be at most " + std::to_string(geography_name_bytes_max) + " bytes");
  }
  if (IsSpace(name.front()) || IsSpace(name.back())) {
    return Status::InvalidArgument(errc::kGeographyNameInvalid, field,
                                   field + ": must not begin or end with whitespace");
  }
  return Status::Ok();
}

// `text` as a quoted name for a message; input of any length is cut to a name's length.
std::string Quoted(std::string_view text) {
  std::string quoted = "\"";
  quoted.append(text.substr(0, geography_name_bytes_max));
  if (text.size() > geography_name_bytes_max) quoted.append("...");
  quoted.push_back('"');
  return quoted;
}

Status CheckSizes(const std::vector<Kecamatan>& kecamatan) {
  if (kecamatan.empty()) {
    return Status::InvalidArgument(errc::kGeographyEmpty, "kecamatan",
                                   "kecamatan: the city must have at least one kecamatan");
  }
  if (kecamatan.size() > geography_kecamatan_max) {
    return Status::LimitExceeded(
        errc::kGeographyTooLarge, "kecamatan",
        "kecamatan: at most " + std::to_string(geography_kecamatan_max) + " are allowed");
  }
  size_t kelurahan_total = 0;
  for (size_t i = 0; i < kecamatan.size(); ++i) {
    if (kecamatan[i].kelurahan.empty()) {
      const std::string field = KecamatanField(i) + ".kelurahan";
      return Status::InvalidArgument(errc::kGeographyEmpty, field,
                                     field + ": a kecamatan must have at least one kelurahan");
    }
    kelurahan_total += kecamatan[i].kelurahan.size();
  }
  if (kelurahan_total > geography_kelurahan_max) {
    return Status::LimitExceeded(errc::kGeographyTooLarge, "kecamatan",
                                 "kecamatan: at most " + std::to_string(geography_kelurahan_max) +
                                     " kelurahan are allowed in the city");
  }
  return Status::Ok();
}

Status CheckNames(const std::vector<Kecamatan>& kecamatan) {
  std::set<std::string_view> kecamatan_seen;
  std::set<std::string_view> kelurahan_seen;
  for (size_t i = 0; i < kecamatan.size(); ++i) {
    const std::string name_field = KecamatanField(i) + ".name";
    MALPRO_RETURN_IF_ERROR(CheckName(kecamatan[i].name, name_field));
    if (!kecamatan_seen.insert(kecamatan[i].name).second) {
      return Status::InvalidArgument(
          errc::kGeographyDuplicate, name_field,
          name_field + ": kecamatan " + Quoted(kecamatan[i].name) + " is named twice");
    }
    for (size_t j = 0; j < kecamatan[i].kelurahan.size(); ++j) {
      const std::string& kelurahan = kecamatan[i].kelurahan[j];
      const std::string field = KecamatanField(i) + ".kelurahan[" + std::to_string(j) + "]";
      MALPRO_RETURN_IF_ERROR(CheckName(kelurahan, field));
      if (!kelurahan_seen.insert(kelurahan).second) {
        return Status::InvalidArgument(
            errc::kGeographyDuplicate, field,
            field + ": kelurahan " + Quoted(kelurahan) +
                " is named twice; a kelurahan name must be unique across the city");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Geography> Geography::Create(std::vector<Kecamatan> kecamatan) {
  MALPRO_RETURN_IF_ERROR(CheckSizes(kecamatan));
  MALPRO_RETURN_IF_ERROR(CheckNames(kecamatan));
  return Geography(std::move(kecamatan));
}

Geography::Geography(std::vector<Kecamatan> kecamatan) : kecamatan_(std::move(kecamatan)) {
  for (size_t i = 0; i < kecamatan_.size(); ++i) {
    const bool kecamatan_inserted = kecamatan_index_.emplace(kecamatan_[i].name, i).second;
    MALPRO_ASSERT(kecamatan_inserted);
    for (const std::string& kelurahan : kecamatan_[i].kelurahan) {
      const bool kelurahan_inserted = kecamatan_of_kelurahan_.emplace(kelurahan, i).second;
      MALPRO_ASSERT(kelurahan_inserted);
    }
  }
}

bool Geography::HasKecamatan(std::string_view name) const {
  return kecamatan_index_.find(name) != kecamatan_index_.end();
}

Result<std::string> Geography::KecamatanOf(std::string_view kelurahan,
                                           std::string_view field) const {
  auto found = kecamatan_of_kelurahan_.find(kelurahan);
  if (found == kecamatan_of_kelurahan_.end()) {
    return Status::InvalidArgument(
        errc::kKelurahanUnknown, field,
        std::string(field) + ": " + Quoted(kelurahan) +
            " is not a kelurahan of Kota Malang (names are matched exactly, letter case "
            "included)");
  }
  return kecamatan_[found->second].name;
}

Status Geography::CheckPair(std::string_view kecamatan, std::string_view kelurahan,
                            std::string_view kecamatan_field,
                            std::string_view kelurahan_field) const {
  if (!HasKecamatan(kecamatan)) {
    return Status::InvalidArgument(
        errc::kKecamatanUnknown, kecamatan_field,
        std::string(kecamatan_field) + ": " + Quoted(kecamatan) +
            " is not a kecamatan of Kota Malang (names are matched exactly, letter case "
            "included)");
  }
  Result<std::string> actual = KecamatanOf(kelurahan, kelurahan_field);
  if (!actual.ok()) return actual.status();
  if (*actual != kecamatan) {
    return Status::InvalidArgument(errc::kKelurahanNotInKecamatan, kelurahan_field,
                                   std::string(kelurahan_field) + ": kelurahan " +
                                       Quoted(kelurahan) + " is in kecamatan " + *actual +
                                       ", not in " + Quoted(kecamatan));
  }
  return Status::Ok();
}

}  // namespace malpro
