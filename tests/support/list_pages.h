// Reading a work list's page (docs/http-api.md, "Work lists") in the tests, without a parser.
#pragma once

#include <string>
#include <vector>

namespace malpro::testing {

// The values of `field` ("order_id") of the objects of a page, in order.
inline std::vector<std::string> Ids(const std::string& page, const std::string& field) {
  std::vector<std::string> ids;
  const std::string key = "\"" + field + "\":\"";
  for (size_t at = page.find(key); at != std::string::npos; at = page.find(key, at + 1)) {
    const size_t start = at + key.size();
    ids.push_back(page.substr(start, page.find('"', start) - start));
  }
  return ids;
}

// The page's `next` cursor; "" when null.
inline std::string Next(const std::string& page) {
  const std::string key = "\"next\":\"";
  const size_t at = page.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return page.substr(start, page.find('"', start) - start);
}

}  // namespace malpro::testing
