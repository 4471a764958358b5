#include "sessions.hpp"

#include <algorithm>

#include "password.hpp"

namespace sas::sample::agenda_web {

namespace {
// Expired sessions are kept this long so the user is told "expired" rather than "not logged in".
constexpr std::chrono::hours kKeepExpired{1};
}  // namespace

std::string SessionStore::create(SessionRecord record) {
  std::string id = random_hex(32);
  std::lock_guard lock(mutex_);
  purge(record.created_at);
  sessions_[id] = std::move(record);
  return id;
}

std::optional<SessionRecord> SessionStore::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second;
}

void SessionStore::erase(const std::string& id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

void SessionStore::purge(std::chrono::system_clock::time_point now) {
  std::erase_if(sessions_, [now](const auto& entry) { return entry.second.expires_at + kKeepExpired < now; });
  while (sessions_.size() >= max_sessions_ && !sessions_.empty()) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.created_at < b.second.created_at;
    });
    sessions_.erase(oldest);
  }
}

}  // namespace sas::sample::agenda_web
