#include "adapters/http/auth.h"

#include "engine/error_codes.h"

namespace malpro {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAsn:
      return "asn";
    case Role::kMerchant:
      return "merchant";
    case Role::kOperator:
      return "operator";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

Result<Role> ParseRole(std::string_view text, std::string_view field) {
  for (Role role : {Role::kAsn, Role::kMerchant, Role::kOperator, Role::kAuditor, Role::kAdmin}) {
    if (RoleName(role) == text) return role;
  }
  return Status::InvalidArgument(
      errc::kRoleUnknown, field,
      std::string(field) + " must be one of: asn, merchant, operator, auditor, admin");
}

Status TokenTable::Add(std::string_view sha256_hex, Principal principal, std::string_view field) {
  Hash hash;
  if (!HashFromHex(sha256_hex, &hash)) {
    return Status::InvalidArgument(errc::kTokenHashInvalid, field,
                                   std::string(field) + " must be 64 hex digits (a SHA-256)");
  }
  auto next = std::make_shared<Principals>(*principals_.load());
  if (!next->emplace(hash, std::move(principal)).second) {
    return Status::InvalidArgument(errc::kTokenDuplicate, field,
                                   std::string(field) + " configures the same token twice");
  }
  principals_.store(std::move(next));
  return Status::Ok();
}

Result<Principal> TokenTable::Authenticate(std::string_view authorization) const {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.empty())
    return Status::Unauthenticated("an Authorization: Bearer token is required");
  if (!authorization.starts_with(scheme) || authorization.size() == scheme.size()) {
    return Status::Unauthenticated("the Authorization header must be 'Bearer <token>'");
  }
  const std::shared_ptr<const Principals> principals = principals_.load();
  auto found = principals->find(Sha256(authorization.substr(scheme.size())));
  if (found == principals->end()) return Status::Unauthenticated("the token is not valid");
  return found->second;
}

bool TokenTable::Contains(const Hash& token_hash) const {
  return principals_.load()->contains(token_hash);
}

}  // namespace malpro
