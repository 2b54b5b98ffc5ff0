// The configuration file (TOML): what it may contain and how it maps onto the components'
// options. config/malpro.toml shows every setting with its default.
#pragma once

#include <string>

#include "engine/event_log.h"
#include "engine/result.h"

namespace malpro {

struct MalproConfig {
  LogOptions log;
};

// Reads the file at `path`. Unknown sections or keys, and values of the wrong type or out of
// range, are errors that name the key.
Result<MalproConfig> LoadConfig(const std::string& path);

}  // namespace malpro
