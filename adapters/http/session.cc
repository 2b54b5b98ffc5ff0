#include "adapters/http/session.h"

#include <algorithm>

namespace malpro {

SessionTable::SessionTable(SessionOptions options) : options_(options) {}

std::pair<std::string, SessionInfo> SessionTable::Open(Principal principal,
                                                       const Hash& token_hash) {
  const auto now = std::chrono::system_clock::now();
  std::string id = RandomHex(32);
  SessionInfo info{std::move(principal), token_hash, RandomHex(16),
                   std::chrono::time_point_cast<std::chrono::seconds>(
                       now + std::chrono::seconds(options_.ttl_seconds))};
  std::lock_guard lock(mutex_);
  MakeRoomLocked(now);
  sessions_[Sha256(id)] = info;
  return {std::move(id), std::move(info)};
}

void SessionTable::MakeRoomLocked(std::chrono::system_clock::time_point now) {
  if (sessions_.size() < options_.sessions_max) return;
  std::erase_if(sessions_, [now](const auto& entry) { return entry.second.expires_at <= now; });
  while (sessions_.size() >= options_.sessions_max) {
    auto first = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.expires_at < b.second.expires_at;
    });
    sessions_.erase(first);
  }
}

std::optional<SessionInfo> SessionTable::Find(std::string_view id) const {
  if (id.empty()) return std::nullopt;
  const Hash key = Sha256(id);
  std::lock_guard lock(mutex_);
  auto found = sessions_.find(key);
  if (found == sessions_.end()) return std::nullopt;
  if (found->second.expires_at <= std::chrono::system_clock::now()) {
    sessions_.erase(found);
    return std::nullopt;
  }
  return found->second;
}

bool SessionTable::Close(std::string_view id) {
  if (id.empty()) return false;
  const Hash key = Sha256(id);
  std::lock_guard lock(mutex_);
  return sessions_.erase(key) > 0;
}

size_t SessionTable::CloseRevoked(const TokenTable& tokens) {
  std::lock_guard lock(mutex_);
  return std::erase_if(
      sessions_, [&](const auto& entry) { return !tokens.Contains(entry.second.token_hash); });
}

std::string_view SessionTable::CookieValue(std::string_view cookie_header) {
  while (!cookie_header.empty()) {
    const size_t end = std::min(cookie_header.find(';'), cookie_header.size());
    std::string_view pair = cookie_header.substr(0, end);
    cookie_header.remove_prefix(std::min(end + 1, cookie_header.size()));
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.starts_with(session_cookie_name) && pair.size() > session_cookie_name.size() &&
        pair[session_cookie_name.size()] == '=') {
      return pair.substr(session_cookie_name.size() + 1);
    }
  }
  return {};
}

std::string SessionTable::SetCookie(std::string_view id, bool secure) const {
  std::string cookie = std::string(session_cookie_name) + "=" + std::string(id) +
                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                       (id.empty() ? std::string("0") : std::to_string(options_.ttl_seconds));
  if (secure || options_.cookie_secure) cookie += "; Secure";
  return cookie;
}

}  // namespace malpro
