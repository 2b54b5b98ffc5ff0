// RFC 4180 quoting, shared by every CSV the project writes (the settlement file, the bank
// simulator's statements, the API's CSV answers). Each writer decides its own formula guard
// before quoting.
#pragma once

#include <string>
#include <string_view>

namespace malpro {

// One CSV field: `text` as it is, or enclosed in '"' with each '"' doubled when it holds ',',
// '"', CR or LF.
inline std::string CsvQuoted(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

}  // namespace malpro
