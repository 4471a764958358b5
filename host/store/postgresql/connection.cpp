#include "connection.hpp"

#include <endian.h>

#include <algorithm>
#include <cstring>

namespace sas::host::store::postgresql {

int64_t to_micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_micros(int64_t micros) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(micros)));
}

Target parse_url(const std::string& url) {
  Target target;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) throw StoreError("--store: not a postgresql:// URL");
  const auto authority_begin = scheme_end + 3;
  const auto authority_end = std::min(url.find_first_of("/?", authority_begin), url.size());
  const auto at = url.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
  const auto query = url.find('?');
  std::string base = url.substr(0, std::min(query, url.size()));
  std::string display_base = base;
  if (at != std::string::npos && at >= authority_begin) {
    const auto colon = url.find(':', authority_begin);
    if (colon != std::string::npos && colon < at)
      display_base = url.substr(0, colon) + url.substr(at, base.size() - at);
  }
  std::string kept;          // for libpq
  std::string kept_display;  // the same without a password
  if (query != std::string::npos) {
    std::string_view rest(url);
    rest.remove_prefix(query + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view item = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (item.empty()) continue;
      if (item.rfind("pool=", 0) == 0) {
        const std::string n(item.substr(5));
        std::size_t size = 0;
        const bool digits =
            !n.empty() && n.size() <= 3 && std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (digits) size = std::stoul(n);
        if (size < 1 || size > 100) {
          throw StoreError("--store " + display_base + ": pool=" + n + " must be a number of connections, 1 to 100");
        }
        target.pool_size = size;
        continue;
      }
      (kept.empty() ? kept : kept += '&') += item;
      if (item.rfind("password=", 0) != 0) (kept_display.empty() ? kept_display : kept_display += '&') += item;
    }
  }
  target.conninfo = kept.empty() ? base : base + "?" + kept;
  target.display = kept_display.empty() ? display_base : display_base + "?" + kept_display;
  return target;
}

Param p(std::string_view text) { return {std::string(text), false}; }
Param p(int64_t value) { return {std::to_string(value), false}; }
Param bytes(std::string_view value) { return {std::string(value), true}; }
Param or_null(std::string_view text) { return text.empty() ? null() : p(text); }
Param null() { return {std::nullopt, false}; }

int64_t Result::integer(int row, int column) const {
  const char* data = PQgetvalue(result_.get(), row, column);
  switch (PQgetlength(result_.get(), row, column)) {
    case 8: {
      uint64_t v = 0;
      std::memcpy(&v, data, 8);
      return static_cast<int64_t>(be64toh(v));
    }
    case 4: {
      uint32_t v = 0;
      std::memcpy(&v, data, 4);
      return static_cast<int32_t>(be32toh(v));
    }
    case 2: {
      uint16_t v = 0;
      std::memcpy(&v, data, 2);
      return static_cast<int16_t>(be16toh(v));
    }
    case 1:
      return static_cast<unsigned char>(data[0]);  // BOOLEAN
    default:
      return 0;  // NULL
  }
}

std::string Result::text(int row, int column) const {
  if (is_null(row, column)) return {};
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

int64_t Result::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return n[0] == '\0' ? 0 : std::stoll(n);
}

Connection::Connection(const std::string& conninfo, std::string display) : display_(std::move(display)) {
  db_.reset(PQconnectdb(conninfo.c_str()));
  if (!db_) throw StoreError("--store " + display_ + ": out of memory");
  if (PQstatus(db_.get()) != CONNECTION_OK) fail("cannot connect");
  // Notices (e.g. "relation already exists, skipping") are not errors: keep them out of stderr.
  PQsetNoticeProcessor(
      db_.get(), [](void*, const char*) {}, nullptr);
}

Result Connection::exec(const char* sql, const std::vector<Param>& params) {
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].value ? params[i].value->data() : nullptr;
    lengths[i] = params[i].value ? static_cast<int>(params[i].value->size()) : 0;
    formats[i] = params[i].binary ? 1 : 0;
  }
  Result result(PQexecParams(db_.get(), sql, static_cast<int>(params.size()), nullptr, values.data(), lengths.data(),
                             formats.data(), /*resultFormat=binary*/ 1));
  const PGresult* raw = result.raw();
  const ExecStatusType status = PQresultStatus(raw);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail("query failed", raw);
  return result;
}

void Connection::exec_script(const std::string& sql) {
  Result result(PQexec(db_.get(), sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.raw());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail("query failed", result.raw());
}

void Connection::fail(std::string_view what, const PGresult* result) const {
  std::string message = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(db_.get());
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (message.empty()) message = "no answer from the server";
  throw StoreError("--store " + display_ + ": " + std::string(what) + ": " + message);
}

Pool::Lease Pool::acquire() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [&] { return !idle_.empty() || open_ < target_.pool_size; });
  if (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(connection));
  }
  ++open_;
  lock.unlock();
  try {
    return Lease(*this, std::make_unique<Connection>(target_.conninfo, target_.display));
  } catch (...) {
    lock.lock();
    --open_;
    freed_.notify_one();
    throw;
  }
}

void Pool::give_back(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(mutex_);
    if (connection && connection->reusable()) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
    }
  }
  freed_.notify_one();
  // A connection not fit for reuse is closed here, outside the pool's lock.
}

Transaction::~Transaction() {
  if (done_ || connection_.broken()) return;
  try {
    connection_.exec("ROLLBACK");
  } catch (const StoreError&) {  // the connection is reset when given back
  }
}

int64_t lock_key(std::string_view purpose, std::string_view key) {
  uint64_t hash = 14695981039346656037ULL;
  const auto mix = [&](std::string_view s) {
    for (const char c : s) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ULL;
    }
  };
  mix(purpose);
  mix(std::string_view("\0", 1));
  mix(key);
  return static_cast<int64_t>(hash);
}

void advisory_lock(Connection& connection, std::string_view purpose, std::string_view key) {
  connection.exec("SELECT pg_advisory_xact_lock($1::bigint)", {p(lock_key(purpose, key))});
}

}  // namespace sas::host::store::postgresql
