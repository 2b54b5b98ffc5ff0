// Browser sessions: an API token exchanged (POST /v1/session) for a random session id kept in
// an HttpOnly cookie, so that pages and EventSource feeds authenticate without the token in
// script. Each session has a CSRF token that writes made with the cookie must send back in
// X-CSRF-Token. Sessions live in memory: a restart signs everyone out.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/http/auth.h"
#include "engine/hash.h"
#include "engine/result.h"

namespace malpro {

// The cookie's name, and the header that carries a session's CSRF token.
inline constexpr std::string_view session_cookie_name = "malpro_session";
inline constexpr std::string_view csrf_header_name = "X-CSRF-Token";

struct SessionOptions {
  int ttl_seconds = 8 * 3600;  // a working day; then sign in again
  size_t sessions_max = 10'000;
  bool cookie_secure = false;  // add Secure to the cookie (behind a TLS proxy)
};

// What a signed-in browser holds: who it is, its CSRF token, and until when.
struct SessionInfo {
  Principal principal;
  Hash token_hash{};  // the SHA-256 of the token it was opened with
  std::string csrf_token;
  std::chrono::system_clock::time_point expires_at;
};

class SessionTable {
 public:
  explicit SessionTable(SessionOptions options = {});

  // A new session for `principal`: its id (the cookie's value) and what it holds. When
  // sessions_max are open, the expired ones go, then the one expiring first.
  std::pair<std::string, SessionInfo> Open(Principal principal, const Hash& token_hash);
  // The live session of `id`, or nullopt (unknown, expired or closed).
  std::optional<SessionInfo> Find(std::string_view id) const;
  // Signs out; false when there was no such session.
  bool Close(std::string_view id);
  // Signs out every session opened with a token `tokens` no longer holds (after the tokens
  // were reloaded); returns how many.
  size_t CloseRevoked(const TokenTable& tokens);

  const SessionOptions& options() const { return options_; }

  // The session id in a Cookie header's value ("a=b; malpro_session=ID"), or "".
  static std::string_view CookieValue(std::string_view cookie_header);
  // The Set-Cookie value that stores `id` (Max-Age ttl_seconds), or that removes it (id "").
  std::string SetCookie(std::string_view id, bool secure) const;

 private:
  void MakeRoomLocked(std::chrono::system_clock::time_point now);

  SessionOptions options_;
  mutable std::mutex mutex_;
  // By the SHA-256 of the id, so that the ids themselves are kept nowhere.
  mutable std::map<Hash, SessionInfo> sessions_;
};

}  // namespace malpro
