// The state of one zoom-sim process: settings, users, tokens, faults and request statistics.
#pragma once

#include "faults.hpp"
#include "user_store.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace zoom_sim {

// Fixed at start-up (command line).
struct Options {
  std::string host = "127.0.0.1";
  int port = 0; // 0 = ephemeral; the bound port once listening
  std::string account_id = "acc-demo";
  std::string client_id = "cid-demo";
  std::string client_secret = "sim-secret";
  std::string users_base = "/scim2";
  std::vector<std::string> groups;
  bool verbose = false;
  int threads = 0;  // request threads (--threads); 0 = max(16, cores). Each keep-alive connection holds one.
  uint64_t seed = 0;
  bool seed_given = false;
  FaultConfig faults;
};

enum class TokenCheck { valid, unknown, expired };

// Access tokens of the (single) account. Thread-safe.
class TokenStore {
public:
  // A new random token valid for `lifetime`; with `single`, earlier tokens stop working.
  std::string issue(std::chrono::seconds lifetime, bool single);
  TokenCheck check(const std::string& token) const;
  void invalidate_all();

private:
  mutable std::mutex m_mutex;
  std::map<std::string, std::chrono::steady_clock::time_point> m_expiry;
};

// Request counters for GET /_sim/stats. Thread-safe.
class Stats {
public:
  void count_request(const std::string& route); // "METHOD template", e.g. "POST /Users"
  void count_status(int status);
  void count_token_issued();
  void count_rate_limited();
  void count_create_applied();
  nlohmann::json to_json() const;
  void reset();

private:
  mutable std::mutex m_mutex;
  std::map<std::string, int64_t> m_by_route;
  std::map<std::string, int64_t> m_by_status;
  int64_t m_tokens_issued = 0;
  int64_t m_rate_limited = 0;
  int64_t m_creates_applied = 0;
};

// Every SCIM request in arrival order, for GET /_sim/requests: tests check per-user call order and
// create attempts. Bounded: past k_max_entries the oldest are dropped (and counted). Thread-safe.
class RequestLog {
public:
  static constexpr size_t k_max_entries = 200'000;
  // `user_name`: the userName a POST /Users body carried ("" otherwise).
  void add(const std::string& method, const std::string& path, int status, const std::string& user_name);
  nlohmann::json to_json() const;
  void reset();

private:
  struct Entry {
    int64_t seq = 0;
    std::string method;
    std::string path;
    int status = 0;
    std::string user_name;
  };
  mutable std::mutex m_mutex;
  std::deque<Entry> m_entries;
  int64_t m_next_seq = 0;
  int64_t m_dropped = 0;
};

struct SimState {
  explicit SimState(Options opts)
      : options(std::move(opts)), store(options.seed), faults(options.faults, options.seed + 1) {}

  // "http://HOST:PORT", valid once the port is bound.
  std::string base_url() const { return "http://" + options.host + ":" + std::to_string(options.port); }

  Options options;
  UserStore store;
  TokenStore tokens;
  Faults faults;
  Stats stats;
  RequestLog requests;
};

} // namespace zoom_sim
