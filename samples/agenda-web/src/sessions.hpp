// In-memory login sessions of the sample web app, keyed by a random id held in a cookie.
// Sessions end at a fixed time after login (no sliding renewal): the SAS regulator rights a
// session carries end with it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace sas::sample::agenda_web {

struct SessionRecord {
  std::string account_id;
  std::chrono::system_clock::time_point created_at;
  std::chrono::system_clock::time_point expires_at;
  bool opened_through_sas = false;  // the login request came with origin=sas
  std::string csrf_token;           // echoed by every form of this session
};

class SessionStore {
 public:
  // At most `max_sessions` live at once: beyond, the oldest is dropped.
  explicit SessionStore(std::size_t max_sessions = 10000) : max_sessions_(max_sessions) {}

  // Stores a new session; returns its id (32 random bytes, hex).
  std::string create(SessionRecord record);
  // The session as stored, expired or not (the access decision says "expired"); nullopt if none.
  std::optional<SessionRecord> find(const std::string& id) const;
  void erase(const std::string& id);

 private:
  void purge(std::chrono::system_clock::time_point now);  // with mutex_ held

  mutable std::mutex mutex_;
  std::map<std::string, SessionRecord> sessions_;
  std::size_t max_sessions_;
};

}  // namespace sas::sample::agenda_web
