// Geography: the kecamatan (districts) of Kota Malang and the kelurahan (urban villages) in
// each, against which addresses in commands are checked. The engine is given the list; where
// it comes from (config/kota-malang.toml, read by adapters/cli/geography_config.h) is not its
// concern.
//
// Names are canonical and matched exactly, byte for byte: "Klojen" is a kecamatan, "klojen"
// and " Klojen" are not. Callers that accept looser spellings normalize before asking.
// A kelurahan name is unique across the city, so a kelurahan alone names its kecamatan; a
// kecamatan and a kelurahan may share a name (kelurahan Blimbing is in kecamatan Blimbing).
//
// Immutable after Create; safe to read from any number of threads.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace malpro {

// Names are written into event payloads; the longest in Kota Malang is 15 bytes.
inline constexpr size_t geography_name_bytes_max = 64;
// Kelurahan in the whole city (Kota Malang has 57); bounds the configuration.
inline constexpr size_t geography_kelurahan_max = 1024;
// Kecamatan in the city (Kota Malang has 5).
inline constexpr size_t geography_kecamatan_max = 64;

static_assert(geography_kecamatan_max <= geography_kelurahan_max,
              "every kecamatan has at least one kelurahan");

struct Kecamatan {
  std::string name;
  std::vector<std::string> kelurahan;  // in the order given
};

class Geography {
 public:
  // Builds the geography from `kecamatan`, kept in the order given. Refuses, with
  // InvalidArgument and the field in the list's own terms (e.g. "kecamatan[1].kelurahan[3]"):
  //   geography_empty: no kecamatan, or a kecamatan without kelurahan;
  //   geography_name_invalid: a name that is empty, longer than geography_name_bytes_max, or
  //     begins or ends with whitespace;
  //   geography_duplicate: a kecamatan named twice, or a kelurahan named twice anywhere in
  //     the city.
  // and LimitExceeded geography_too_large beyond geography_kecamatan_max or
  // geography_kelurahan_max.
  static Result<Geography> Create(std::vector<Kecamatan> kecamatan);

  bool HasKecamatan(std::string_view name) const;

  // The kecamatan that `kelurahan` is in. InvalidArgument kelurahan_unknown naming `field`
  // when it is not a kelurahan of the city.
  Result<std::string> KecamatanOf(std::string_view kelurahan, std::string_view field) const;

  // OK when `kelurahan` is in `kecamatan`. Otherwise InvalidArgument, checked in this order:
  // kecamatan_unknown (naming `kecamatan_field`), kelurahan_unknown (naming `kelurahan_field`),
  // kelurahan_not_in_kecamatan (naming `kelurahan_field`).
  Status CheckPair(std::string_view kecamatan, std::string_view kelurahan,
                   std::string_view kecamatan_field, std::string_view kelurahan_field) const;

  // Every kecamatan with its kelurahan, in the order given to Create.
  const std::vector<Kecamatan>& kecamatan() const { return kecamatan_; }
  // Kelurahan in the whole city.
  size_t kelurahan_count() const { return kecamatan_of_kelurahan_.size(); }

 private:
  explicit Geography(std::vector<Kecamatan> kecamatan);

  std::vector<Kecamatan> kecamatan_;
  // Name -> index into kecamatan_. std::less<> allows lookup by string_view.
  std::map<std::string, size_t, std::less<>> kecamatan_index_;
  // Kelurahan name -> index into kecamatan_ of the kecamatan it is in.
  std::map<std::string, size_t, std::less<>> kecamatan_of_kelurahan_;
};

}  // namespace malpro
