// ConnectionRegistry: the live side of the connections table — one ScimClient, RateLimiter and
// health record per Zoom connection, sharing one TokenCache and one HttpTransport. Thread-safe.
#pragma once

#include "core/clock.hpp"
#include "secrets/secret_box.hpp"
#include "store/store.hpp"
#include "zoom/scim_client.hpp"

#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace h2r {

inline constexpr double k_default_rate_limit = 10.0;   // requests/s: conservative; Zoom's budget is shared

// Connection health as the daemon sees it: a permanent token failure (invalid_client, missing scope)
// or repeated failures make a connection unhealthy; calls to it stop until it recovers.
struct HealthVerdict {
  bool usable = true;
  std::string reason;      // why not usable
};

class ConnectionRegistry {
public:
  ConnectionRegistry(Store& store, const SecretBox& box, HttpTransport& transport, const Clock& clock,
                     ScimClientOptions client_options = {});

  // The client for connection `name`, built from the store on first use. not_found for an unknown
  // name; permanent when its secret cannot be decrypted.
  Result<std::shared_ptr<ScimClient>> client(const std::string& name);
  // Forgets cached clients and tokens (after `connection update` or a reload).
  void reset();

  // Health bookkeeping, persisted to the store for `h2rd status`.
  void record_success(const std::string& name);
  void record_failure(const std::string& name, const Error& error);
  HealthVerdict verdict(const std::string& name);

  TokenCache& tokens() { return m_tokens; }
  std::shared_ptr<RateLimiter> limiter(const std::string& name);

  // After this many transient failures in a row, the circuit opens for k_breaker_cooldown.
  static constexpr int k_breaker_threshold = 5;
  static constexpr std::chrono::seconds k_breaker_cooldown{60};

private:
  struct Live {
    std::shared_ptr<ScimClient> client;
    std::shared_ptr<RateLimiter> limiter;
    int consecutive_failures = 0;
    bool unhealthy = false;            // permanent token/scope failure
    std::string unhealthy_reason;
    long long unhealthy_since_ms = 0;  // `connection test`/`update` succeeding after this heals it
    SystemTime open_until{};           // circuit breaker
  };
  Live& live(const std::string& name);  // m_mutex held
  void persist(const std::string& name, const Live& l, const Error* error);

  Store& m_store;
  const SecretBox& m_box;
  HttpTransport& m_transport;
  const Clock& m_clock;
  ScimClientOptions m_client_options;
  TokenCache m_tokens;
  std::mutex m_mutex;
  std::map<std::string, Live> m_live;
};

// Builds the ZoomConnection (credentials decrypted) for a stored row.
Result<ZoomConnection> zoom_connection(const ConnectionRow& row, const SecretBox& box);

} // namespace h2r
