// The one table from error code (engine/error_codes.h) to HTTP status. docs/error-codes.md
// lists the same pairs; tests/http/error_codes_test.cc checks the three agree.
#pragma once

#include <string_view>

#include "engine/status.h"

namespace malpro {

// The HTTP status a refusal with `code` is answered with; 0 for a code without an entry.
int HttpStatusOfCode(std::string_view code);

// The HTTP status of a refusal: its code's entry, else by its category (200 for OK).
int ErrorStatus(const Status& status);

}  // namespace malpro
