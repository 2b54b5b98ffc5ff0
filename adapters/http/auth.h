// Bearer tokens: configured as SHA-256 hashes, each with a role and a subject. The plain token
// is never stored; a presented token is hashed and looked up.
#pragma once

#include <atomic>
#include <map>
#include <memory>
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

// Safe to use from any thread. Its tokens can be replaced whole while requests are served
// (ReplaceWith: `malpro serve` on SIGHUP); each lookup sees the old set or the new one.
class TokenTable {
 public:
  TokenTable() = default;
  TokenTable(const TokenTable& other) : principals_(other.principals_.load()) {}
  TokenTable& operator=(const TokenTable& other) {
    principals_.store(other.principals_.load());
    return *this;
  }

  // `sha256_hex` is the lowercase or uppercase hex SHA-256 of the token. InvalidArgument when
  // it is not 64 hex digits or is already configured.
  Status Add(std::string_view sha256_hex, Principal principal, std::string_view field);

  // The principal for an `Authorization` header value ("Bearer <token>"), or Unauthenticated.
  Result<Principal> Authenticate(std::string_view authorization) const;
  // Whether the token whose SHA-256 is `token_hash` is configured.
  bool Contains(const Hash& token_hash) const;

  // Takes `next`'s tokens instead of these, at once for every thread. The one change a table
  // shared as const takes: a server's tables are its configuration's.
  void ReplaceWith(const TokenTable& next) const { principals_.store(next.principals_.load()); }

  size_t size() const { return principals_.load()->size(); }

 private:
  using Principals = std::map<Hash, Principal>;
  mutable std::atomic<std::shared_ptr<const Principals>> principals_{
      std::make_shared<const Principals>()};
};

}  // namespace malpro
