// The admin console on the daemon's `listen` address: pages under /ui/ (assets embedded in the binary)
// and a JSON API under /api/v1 (docs/console-api.md). Security (docs/console-api.md "Checks on every `/ui/` and `/api/`
// request"): a Host allow-list (DNS rebinding), Origin and Sec-Fetch-Site checks on state changes,
// tokens from the token file exchanged for an HttpOnly SameSite=Strict session cookie (named after the
// port), a CSRF header on every state-changing cookie request (the page keeps the CSRF token; a cookie
// alone cannot obtain it, so another service on 127.0.0.1 that receives the cookie changes nothing), `Authorization: Bearer` for scripts, viewer and reviewer roles,
// CSP and no-store on every answer, bounded request sizes and rates. /metrics and /healthz are not its
// business: they stay unauthenticated.
#pragma once

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "engine/connection_registry.hpp"
#include "ops/metrics.hpp"
#include "rules/rules.hpp"
#include "console/console_tokens.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}

namespace h2r {

struct ConsoleLimits {
  std::size_t max_body_bytes = 64 * 1024;   // larger request bodies: 413
  double api_rate = 50;                     // API requests per second, all clients together ...
  double api_burst = 200;                   // ... with this burst; beyond: 429
  double login_failure_rate = 1;            // failed logins per second ...
  double login_failure_burst = 10;          // ... with this burst; beyond: 429
  std::size_t max_sessions = 100;           // the oldest is dropped beyond this
  double bearer_failure_rate = 1;           // wrong Bearer tokens per second from one client address ...
  double bearer_failure_burst = 10;         // ... with this burst; beyond: 429
  std::size_t max_failure_clients = 1024;   // client addresses tracked; beyond, all others share one limit
};

// Who a request comes from (after authentication).
struct ConsolePrincipal {
  std::string name;
  ConsoleRole role = ConsoleRole::viewer;
  bool cookie = false;       // by session cookie (then state changes need the CSRF header)
  std::string csrf;          // the session's CSRF token ("" for Bearer)
};

// What the console asks of the engine (console_engine.cpp): an event's plan (DryRun, as `h2rd plan`:
// only GETs reach Zoom) and a connection test (as `h2rd connection test`). Without it (no
// set_engine) those endpoints answer 503.
struct ConsoleEngine {
  ConnectionRegistry* connections = nullptr;   // the daemon's: its clients, limiters, token cache, box
  HttpTransport* transport = nullptr;          // for the connection test's own token fetch
  std::function<RulesPtr()> rules;             // the rules in force (null while none are)
  const Metrics* metrics = nullptr;            // the daemon's: its SCIM calls per hour (GET /activity)
};

class Console {
public:
  // `store` is the console's own store handle (its actor is set per action, so the daemon's own changes
  // keep theirs); `extra_hosts` are Host names allowed besides localhost, 127.0.0.1 and [::1].
  Console(Store& store, Config config, std::vector<ConsoleToken> tokens, const Clock& clock,
          std::vector<std::string> extra_hosts = {}, ConsoleLimits limits = {});
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // Before install(): the engine the plan and connection-test endpoints use.
  void set_engine(ConsoleEngine engine) { m_engine = std::move(engine); }

  // Replaces the tokens (the token file re-read on SIGHUP): a new token works at once; the sessions of
  // a token no longer listed with the same name, role and value end. Returns how many sessions ended.
  int set_tokens(std::vector<ConsoleToken> tokens);

  // Checks `path` (the token file) before every authentication: when it changed on disk it is read
  // again; when it is gone or unreadable (a chmod that gives group or others access, say) no token
  // works and every session ends, until it is good again.
  void watch_token_file(std::string path);

  // Installs the checks (a pre-routing handler for /ui/, /api/ and /) and the routes on `server`.
  void install(httplib::Server& server);

  // The URL path that logs in with `token`: "/ui/#token=<value>".
  static std::string login_path(const ConsoleToken& token);

private:
  struct Session {
    std::string name;
    ConsoleRole role = ConsoleRole::viewer;
    std::string csrf;
    std::string token;       // the token's value at login: rotating it ends the session
    long long expires_ms = 0;
  };
  struct Bucket {
    double tokens = 0;
    long long last_ms = 0;
  };

  bool take(Bucket& bucket, double rate, double burst);
  // One more wrong Bearer token from `client`: false when that client is over its limit.
  bool bearer_failure_allowed(const std::string& client);
  // The token file's state on disk against the last one seen; reloads on a change (watch_token_file).
  void refresh_tokens();
  bool host_allowed(const std::string& host_header) const;
  // The checks every /ui/ and /api/ request passes; false after writing the refusal.
  bool screen(const httplib::Request& req, httplib::Response& res);
  std::optional<ConsolePrincipal> principal(const httplib::Request& req);
  // principal() or a 401/403 written; `write` = the request changes state (reviewer role + CSRF).
  std::optional<ConsolePrincipal> require(const httplib::Request& req, httplib::Response& res, bool write);

  void install_session_routes(httplib::Server& server);
  void install_read_routes(httplib::Server& server);
  void install_action_routes(httplib::Server& server);
  void install_asset_routes(httplib::Server& server);
  void install_engine_routes(httplib::Server& server);
  void plan(const httplib::Request& req, httplib::Response& res);
  void test_connection(const httplib::Request& req, httplib::Response& res);
  // GET: the preview of provisioning one employee on demand; POST (a reviewer): queue it too.
  void provision(const httplib::Request& req, httplib::Response& res, bool apply);
  bool plan_bounded(httplib::Response& res, const std::string& employee_id);
  // GET /api/v1/drift: `h2rd reconcile` without --apply; POST /api/v1/drift/fix (a reviewer): queue an
  // on-demand event for each employee named, in one set for the guard.
  void drift(const httplib::Request& req, httplib::Response& res);
  // GET /api/v1/employees/{id}/zoom: the employee's Zoom users as Zoom has them now.
  void zoom_state(const httplib::Request& req, httplib::Response& res);
  void fix_drift(const httplib::Request& req, httplib::Response& res);

  void action(const httplib::Request& req, httplib::Response& res, const std::string& verb);
  long long now_ms() const;

  Store& m_store;
  Config m_config;
  std::vector<ConsoleToken> m_tokens H2R_GUARDED_BY(m_mutex);
  const Clock& m_clock;
  std::vector<std::string> m_hosts;
  ConsoleLimits m_limits;
  Mutex m_mutex;
  std::map<std::string, Session> m_sessions H2R_GUARDED_BY(m_mutex);   // by session id
  Bucket m_api_bucket H2R_GUARDED_BY(m_mutex), m_login_bucket H2R_GUARDED_BY(m_mutex);
  // By client address, at most max_failure_clients + 1.
  std::map<std::string, Bucket> m_bearer_failures H2R_GUARDED_BY(m_mutex);
  std::string m_token_file H2R_GUARDED_BY(m_mutex);         // watched when not empty
  std::string m_token_file_state H2R_GUARDED_BY(m_mutex);   // its stat() fields at the last look
  // Guard no member: they keep to one at a time what shares something outside this object.
  Mutex m_action_mutex;   // one action at a time (the store's actor is shared)
  ConsoleEngine m_engine;
  Mutex m_engine_mutex;   // one plan or connection test at a time (Zoom's budget)
};

// The JSON error body every refusal carries: {"error": message}.
void console_error(httplib::Response& res, int status, const std::string& message);
void console_json(httplib::Response& res, const nlohmann::json& body, int status = 200);

} // namespace h2r
