// Bearer tokens: configured as SHA-256 hashes, each with a role and a subject. The plain token
// is never stored; a presented token is hashed and looked up.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/hash.h"
#include "engine/result.h"

namespace malpro {

enum class Role { kAsn, kMerchant, kOperator, kAuditor, kAdmin };

std::string_view RoleName(Role role);
Result<Role> ParseRole(std::string_view text, std::string_view field);

// Who is calling. `subject` is the NIP for kAsn, the UMKM id for kMerchant, a name otherwise.
struct Principal {
  Role role = Role::kAuditor;
  std::string subject;
  std::string Actor() const { return std::string(RoleName(role)) + ":" + subject; }
};

class TokenTable {
 public:
  // `sha256_hex` is the lowercase or uppercase hex SHA-256 of the token. InvalidArgument when
  // it is not 64 hex digits or is already configured.
  Status Add(std::string_view sha256_hex, Principal principal, std::string_view field);

  // The principal for an `Authorization` header value ("Bearer <token>"), or Unauthenticated.
  Result<Principal> Authenticate(std::string_view authorization) const;

  size_t size() const { return principals_.size(); }

 private:
  std::map<Hash, Principal> principals_;
};

}  // namespace malpro
