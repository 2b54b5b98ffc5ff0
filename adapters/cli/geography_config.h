// The geography file (TOML): the city's kecamatan and their kelurahan, read into the engine's
// Geography. config/kota-malang.toml is the file for Kota Malang and shows the format:
//
//   [[kecamatan]]
//   name = "Blimbing"
//   kelurahan = ["Arjosari", "Balearjosari", ...]
//
// The root holds only the `kecamatan` array of tables; each table holds exactly `name` (a
// string) and `kelurahan` (an array of strings).
#pragma once

#include <string>

#include "engine/geography.h"
#include "engine/result.h"

namespace malpro {

// Reads the file at `path`. Errors name the key, e.g. "kecamatan[2].kelurahan[4]", and the
// file in their message:
//   config_syntax (unreadable file or bad TOML), config_unknown_key, config_missing_key,
//   config_wrong_type, and Geography::Create's refusals (empty names, duplicates, limits).
Result<Geography> LoadGeography(const std::string& path);

}  // namespace malpro
