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
#include <optional>

namespace h2r {

inline constexpr double k_default_rate_limit = 10.0;   // requests/s: conservative; Zoom's budget is shared

// Connection health as the daemon sees it: a permanent token failure (invalid_client, missing scope)
// or repeated failures make a connection unhealthy; calls to it stop until it recovers.
struct HealthVerdict {
  bool usable = true;
  std::string reason;                // why not usable
  std::optional<SystemTime> until;   // when it may be usable again, when known (pause, circuit cool-down)
  bool daily_limit = false;          // paused by Zoom's daily limit
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
  //  - invalid_client / unsupported_grant_type / 4711: unhealthy (logged once) until `connection test`
  //    or `update` succeeds (seen through the store, so another process may heal it);
  //  - a Daily-limit 429: the connection is paused until Zoom's stated time (persisted, restored on restart);
  //  - k_breaker_threshold transient failures in a row: the circuit opens for k_breaker_cooldown, then
  //    one caller at a time is let through as a probe (half-open) until a call succeeds;
  //  - other errors (about one user) say the connection answers: they close the circuit.
  void record_success(const std::string& name);
  void record_failure(const std::string& name, const Error& error);
  // Whether calls to `name` may be made now. Cheap while healthy; reads the store while unhealthy.
  HealthVerdict verdict(const std::string& name);

  TokenCache& tokens() { return m_tokens; }
  std::shared_ptr<RateLimiter> limiter(const std::string& name);

  // After this many transient failures in a row, the circuit opens for k_breaker_cooldown.
  static constexpr int k_breaker_threshold = 5;
  static constexpr std::chrono::seconds k_breaker_cooldown{60};
  // While a probe is in flight, other callers look again after this long.
  static constexpr std::chrono::seconds k_probe_wait{5};

private:
  struct Live {
    std::shared_ptr<ScimClient> client;
    std::shared_ptr<RateLimiter> limiter;
    int consecutive_failures = 0;
    bool unhealthy = false;            // permanent token/scope failure
    std::string unhealthy_reason;
    long long unhealthy_since_ms = 0;  // `connection test`/`update` succeeding after this heals it
    SystemTime open_until{};           // circuit breaker
    bool probing = false;              // half-open: one probe in flight since probe_started
    SystemTime probe_started{};
    SystemTime daily_until{};          // Daily-limit pause (also set in the limiter)
    SystemTime last_persisted{};       // last health write after a success
  };
  Live& live(const std::string& name);  // m_mutex held
  void persist(const std::string& name, const Live& l, const Error* error);
  void restore_pause(const std::string& name, Live& l);   // the persisted Daily-limit pause, after a restart

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
