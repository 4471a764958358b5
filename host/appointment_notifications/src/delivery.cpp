#include "sas/host/appointment_notifications/delivery.hpp"
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <curl/curl.h>

#include <cctype>
#include <csignal>
#include <optional>
#include <random>
#include <stdexcept>

#include "sas/host/appointment_notifications/outbox.hpp"

namespace sas::host::appointment_notifications {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    // CURLOPT_NOSIGNAL (threads) also stops libcurl guarding against SIGPIPE on a connection the
    // server closed; the host has no use for SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

// RFC 3986 unreserved characters and ':' stay as they are; everything else is percent-encoded.
std::string encode(std::string_view value) {
  static constexpr auto kKept = boost::urls::unreserved_chars + ':';
  return boost::urls::encode(value, kKept);
}

std::string trimmed_base(std::string_view base) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base);
}

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

struct Answer {
  bool transport_ok = false;
  long status = 0;
  std::string body;
  std::string error;
  std::optional<std::chrono::seconds> retry_after;  // a Retry-After header in seconds
};

// Keeps the Retry-After header (delay-seconds form; an HTTP-date is ignored).
size_t read_header(char* data, size_t size, size_t count, void* user) {
  const std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (std::size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      long seconds = 0;
      bool digits = false;
      for (std::size_t i = kName.size(); i < line.size(); ++i) {
        const char c = line[i];
        if (c >= '0' && c <= '9') {
          if (seconds < 1000000) seconds = seconds * 10 + (c - '0');
          digits = true;
        } else if (c != ' ' && c != '\r' && c != '\n' && c != '\t') {
          digits = false;
          break;
        }
      }
      if (digits) static_cast<Answer*>(user)->retry_after = std::chrono::seconds(seconds);
    }
  }
  return size * count;
}

// One kept-alive mTLS connection to the platform.
class Client {
 public:
  explicit Client(const DeliveryOptions& o) {
    curl_ = curl_easy_init();
    if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(curl_, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl_, CURLOPT_SSLCERT, o.cert_file.c_str());
    curl_easy_setopt(curl_, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(curl_, CURLOPT_SSLKEY, o.key_file.c_str());
    curl_easy_setopt(curl_, CURLOPT_SSLKEYTYPE, "PEM");
    curl_easy_setopt(curl_, CURLOPT_CAINFO, o.ca_file.c_str());
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl_, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "sas-host (INT_R03 appointment notifications)");
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &append_body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &read_header);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.timeout.count()));
    headers_ = curl_slist_append(nullptr, "Content-Type: application/fhir+json; charset=utf-8");
    headers_ = curl_slist_append(headers_, "Accept: application/fhir+json");
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() {
    curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }

  Answer send(const char* method, const std::string& url, const std::string& body) {
    Answer answer;
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, static_cast<char*>(error));
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, static_cast<void*>(&answer.body));
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, static_cast<void*>(&answer));
    const CURLcode code = curl_easy_perform(curl_);
    answer.transport_ok = code == CURLE_OK;
    if (answer.transport_ok) {
      curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &answer.status);
    } else {
      answer.error = curl_easy_strerror(code);
      if (error[0] != '\0') answer.error += std::string(": ") + error;
    }
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, static_cast<void*>(nullptr));
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, static_cast<void*>(nullptr));
    return answer;
  }

 private:
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
};

}  // namespace

std::string conditional_url(std::string_view base, std::string_view appointment_key) {
  const auto bar = appointment_key.find('|');
  std::string url = trimmed_base(base) + "/Appointment?identifier=";
  url += encode(appointment_key.substr(0, bar));
  url += '|';
  if (bar != std::string_view::npos) url += encode(appointment_key.substr(bar + 1));
  return url;
}

std::chrono::milliseconds retry_delay(int attempts, std::chrono::milliseconds base, std::chrono::milliseconds max) {
  thread_local std::mt19937_64 random(std::random_device{}());
  auto delay = base;
  for (int i = 1; i < attempts && delay < max; ++i) delay *= 2;
  delay = std::min(delay, max);
  std::uniform_int_distribution<int64_t> jitter(delay.count() / 2, delay.count());
  return std::chrono::milliseconds(jitter(random));
}

struct Delivery::Impl {
  std::shared_ptr<OutboxRepository> outbox;
  DeliveryOptions options;
  std::string post_url;

  std::mutex mutex;
  std::condition_variable wake;  // the dispatcher: new rows or stop
  bool stopping = false;
  bool woken = false;
  std::thread dispatcher;

  // One round: senders take rows by index; the last one to finish tells the dispatcher.
  std::condition_variable round_start, round_done;
  uint64_t round = 0;
  std::vector<Notification>* rows = nullptr;
  std::vector<DeliveryOutcome>* outcomes = nullptr;
  std::atomic<std::size_t> next{0};
  unsigned busy = 0;
  std::vector<std::thread> senders;

  std::atomic<uint64_t> delivered{0}, retried{0}, dead{0};

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  // "ID (SYSTEM|VALUE #SEQUENCE)", with the association of an SOS Médecins appointment (its
  // resource names no one, so the log is where an operator finds whose it is).
  static std::string describe(const Notification& row) {
    std::string text = std::to_string(row.id) + " (" + row.appointment_key + " #" + std::to_string(row.sequence);
    if (const std::string siret = sos_association_siret(row); !siret.empty()) text += ", SOS association " + siret;
    return text + ")";
  }

  DeliveryOutcome deliver(Client& client, const Notification& row) {
    DeliveryOutcome o;
    o.id = row.id;
    // A first notification whose first attempt this is goes as a POST; every other one as the
    // conditional PUT (a retry of a POST may follow one that reached the platform).
    const bool post = row.sequence == 1 && row.attempts == 1;
    o.method = post ? "POST" : "PUT";
    const Answer answer = client.send(
        o.method.c_str(), post ? post_url : conditional_url(options.base, row.appointment_key), row.resource);
    o.at = std::chrono::system_clock::now();
    o.http_status = static_cast<int>(answer.status);
    o.outcome = answer.body;
    if (answer.transport_ok && (answer.status == 200 || answer.status == 201)) {
      o.kind = DeliveryOutcome::Kind::delivered;
      return o;
    }
    const bool retry = !answer.transport_ok || answer.status >= 500 || answer.status == 429 || answer.status == 408 ||
                       answer.status < 400;
    o.error = answer.transport_ok ? "HTTP " + std::to_string(answer.status) : answer.error;
    if (retry) {
      o.kind = DeliveryOutcome::Kind::retry;
      auto delay = retry_delay(row.attempts, options.retry_base, options.retry_max);
      // 429 and 503 may say when to come back: never sooner, and never beyond the ceiling.
      if (answer.retry_after) {
        delay = std::min(std::max<std::chrono::milliseconds>(delay, *answer.retry_after), options.retry_max);
      }
      o.next_attempt_at = o.at + delay;
      if (row.attempts == 1 || row.attempts % 10 == 0) {
        log("appointment notification " + describe(row) + ": attempt " + std::to_string(row.attempts) + " failed (" +
            o.error + "), will retry");
      }
    } else {
      o.kind = DeliveryOutcome::Kind::dead;
      log("appointment notification " + describe(row) + " refused with HTTP " + std::to_string(answer.status) +
          ": dead letter (sas-host outbox dead-letter / replay)");
    }
    return o;
  }

  void sender_loop(unsigned) {
    std::unique_ptr<Client> client = std::make_unique<Client>(options);
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lock(mutex);
        round_start.wait(lock, [&] { return stopping || round != seen; });
        if (round == seen) return;  // stopping between rounds
        seen = round;
      }
      for (std::size_t k = next++; k < rows->size(); k = next++) {
        try {
          (*outcomes)[k] = deliver(*client, (*rows)[k]);
        } catch (const std::exception& e) {  // e.g. out of memory: the row stays pending
          DeliveryOutcome& o = (*outcomes)[k];
          o.id = (*rows)[k].id;
          o.kind = DeliveryOutcome::Kind::retry;
          o.error = e.what();
          o.at = std::chrono::system_clock::now();
          o.next_attempt_at = o.at + retry_delay((*rows)[k].attempts, options.retry_base, options.retry_max);
        }
      }
      std::lock_guard lock(mutex);
      if (--busy == 0) round_done.notify_one();
    }
  }

  std::chrono::milliseconds round_lease() const {
    const auto per_connection = (options.batch + options.connections - 1) / options.connections;
    return options.timeout * static_cast<int64_t>(per_connection) + std::chrono::seconds(5);
  }

  void dispatch_loop() {
    for (;;) {
      {
        std::lock_guard lock(mutex);
        if (stopping) return;
        woken = false;
      }
      std::vector<Notification> claimed;
      try {
        // A lease covering the whole round: every connection sending its share of the batch
        // one after the other, each request to its timeout, and the store's finish().
        const auto now = std::chrono::system_clock::now();
        claimed = outbox->claim(now, options.batch, now + round_lease());
      } catch (const std::exception& e) {
        log(std::string("appointment notifications: ") + e.what());
      }
      if (claimed.empty()) {
        auto until = std::chrono::system_clock::now() + options.poll;
        try {
          if (auto due = outbox->next_due(); due && *due < until) until = *due;
        } catch (const std::exception&) {
        }
        std::unique_lock lock(mutex);
        wake.wait_until(lock, until, [&] { return stopping || woken; });
        continue;
      }
      std::vector<DeliveryOutcome> results(claimed.size());
      {
        std::unique_lock lock(mutex);
        rows = &claimed;
        outcomes = &results;
        next = 0;
        busy = static_cast<unsigned>(senders.size());
        ++round;
        round_start.notify_all();
        round_done.wait(lock, [&] { return busy == 0; });
      }
      for (const auto& r : results) {
        if (r.kind == DeliveryOutcome::Kind::delivered) ++delivered;
        if (r.kind == DeliveryOutcome::Kind::retry) ++retried;
        if (r.kind == DeliveryOutcome::Kind::dead) ++dead;
      }
      for (int attempt = 0;; ++attempt) {
        try {
          outbox->finish(results);
          break;
        } catch (const std::exception& e) {
          // The rows stay pending with their attempt counted: they are sent again (as PUT).
          log(std::string("appointment notifications: cannot record deliveries: ") + e.what());
          if (attempt == 2) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      }
    }
  }
};

Delivery::Delivery(std::shared_ptr<OutboxRepository> outbox, DeliveryOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (options.base.empty()) throw std::invalid_argument("the SAS platform base URL is required");
  if (options.connections == 0) options.connections = 1;
  impl_->outbox = std::move(outbox);
  impl_->post_url = trimmed_base(options.base) + "/Appointment";
  impl_->options = std::move(options);
}

Delivery::~Delivery() { stop(); }

void Delivery::start() {
  global_init();
  for (unsigned i = 0; i < impl_->options.connections; ++i) {
    impl_->senders.emplace_back([this, i] { impl_->sender_loop(i); });
  }
  impl_->dispatcher = std::thread([this] { impl_->dispatch_loop(); });
}

void Delivery::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->dispatcher.joinable()) impl_->dispatcher.join();
  impl_->round_start.notify_all();
  for (auto& t : impl_->senders) {
    if (t.joinable()) t.join();
  }
  impl_->senders.clear();
}

void Delivery::wake() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->woken = true;
  }
  impl_->wake.notify_one();
}

DeliveryStats Delivery::stats() const { return {impl_->delivered.load(), impl_->retried.load(), impl_->dead.load()}; }

}  // namespace sas::host::appointment_notifications
