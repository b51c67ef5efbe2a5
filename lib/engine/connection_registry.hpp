// ConnectionRegistry: the live side of the connections table — one ScimClient, RateLimiter and
// health record per Zoom connection, sharing one TokenCache and one HttpTransport. Thread-safe.
#pragma once

#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "engine/circuit_breaker.hpp"
#include "engine/dispatcher.hpp"
#include "secrets/secret_box.hpp"
#include "store/store.hpp"
#include "zoom/scim_client.hpp"

#include <functional>
#include <map>
#include <memory>
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
  // Why not usable, as a type: connection_unhealthy (a person must act) or connection_paused (wait).
  ErrorReason why = ErrorReason::none;
};

class ConnectionRegistry {
public:
  ConnectionRegistry(Store& store, const SecretBox& box, HttpTransport& transport, const Clock& clock,
                     ScimClientOptions client_options = {}, BreakerConfig breaker = {});

  // The client for connection `name`, built from the store on first use. not_found for an unknown
  // name; permanent when its secret cannot be decrypted.
  Result<std::shared_ptr<ScimClient>> client(const std::string& name);
  // Forgets cached clients and tokens (after `connection update` or a reload).
  void reset();
  // New breaker settings (a reload of h2rd.yaml): every existing breaker adopts them
  // (CircuitBreaker::configure), and breakers made later use them.
  void set_breaker_config(const BreakerConfig& config);
  BreakerConfig breaker_config() const;

  // Health bookkeeping, persisted to the store for `h2rd status`.
  //  - invalid_client / unsupported_grant_type / 4711: unhealthy (logged once) until `connection test`
  //    or `update` succeeds (seen through the store, so another process may heal it);
  //  - a Daily-limit 429: the connection is paused until Zoom's stated time (persisted, restored on restart);
  //  - transient failures feed the connection's CircuitBreaker (a share of failures over a window opens
  //    it for a growing cool-down, then exactly one probe is let through);
  //  - other errors (about one user) say the connection answers: they count as successes.
  void record_success(const std::string& name);
  void record_failure(const std::string& name, const Error& error);
  // Whether calls to `name` may be made now. Cheap while healthy; reads the store while unhealthy.
  HealthVerdict verdict(const std::string& name);

  TokenCache& tokens() { return m_tokens; }
  const SecretBox& box() const { return m_box; }
  std::shared_ptr<RateLimiter> limiter(const std::string& name);

  // What the engine sizes a connection's concurrency from: its rate limit (requests/s, as its limiter
  // paces; the stored rate when no client was built yet, 0 = unknown) and the moving average of its
  // answered calls' latency (nullopt before the first answer). Kept across reset().
  struct Pace {
    double rate = 0;
    std::optional<std::chrono::microseconds> latency;
  };
  Pace pace(const std::string& name);
  // Several daemons share each Zoom account's rate limit. On a shared store (PostgreSQL) each limiter
  // draws its slots from the account's schedule in the database (RateLimiter::set_source), so a daemon
  // may use the whole rate while the others have no work for that account; `daemons` (at least 1, the
  // live daemons: engine/membership.hpp) is what it paces at, rate / daemons, while the database does
  // not answer. Without a shared store every limiter paces at rate / `daemons`.
  void set_share(int daemons);
  int share() const;
  // Per connection whose limiter drew on the database: {grants taken, fallbacks to rate / daemons}.
  std::map<std::string, std::pair<long long, long long>> pace_counters() const;

private:
  struct Live {
    std::shared_ptr<ScimClient> client;
    std::shared_ptr<RateLimiter> limiter;
    double base_rate = 0;              // the stored rate limit
    std::shared_ptr<LatencyEwma> latency = std::make_shared<LatencyEwma>();   // fed by the client's observer
    std::optional<CircuitBreaker> breaker;   // made on first use, from m_breaker_config
    bool unhealthy = false;            // permanent token/scope failure
    std::string unhealthy_reason;
    long long unhealthy_since_ms = 0;  // `connection test`/`update` succeeding after this heals it
    SystemTime daily_until{};          // Daily-limit pause (also set in the limiter)
    SystemTime last_persisted{};       // last health write after a success
  };
  Live& live(const std::string& name) H2R_REQUIRES(m_mutex);  // its breaker made
  SlotSource pace_source(const std::string& name);   // grants of the shared schedule, from the store
  void breaker_result(const std::string& name, Live& l, bool failed, const Error* error);
  void persist(const std::string& name, const Live& l, const Error* error) H2R_REQUIRES(m_mutex);
  // The persisted Daily-limit pause, after a restart.
  void restore_pause(const std::string& name, Live& l) H2R_REQUIRES(m_mutex);

  Store& m_store;
  const SecretBox& m_box;
  HttpTransport& m_transport;
  const Clock& m_clock;
  ScimClientOptions m_client_options;
  BreakerConfig m_breaker_config H2R_GUARDED_BY(m_mutex);
  TokenCache m_tokens;
  mutable Mutex m_mutex;
  std::map<std::string, Live> m_live H2R_GUARDED_BY(m_mutex);
  int m_share H2R_GUARDED_BY(m_mutex) = 1;
};

// Builds the ZoomConnection (credentials decrypted) for a stored row.
Result<ZoomConnection> zoom_connection(const ConnectionRow& row, const SecretBox& box);

} // namespace h2r
