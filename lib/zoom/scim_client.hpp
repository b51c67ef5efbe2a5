// ScimClient: Zoom's SCIM2 API for one connection, with Zoom's headers and quirks, percent-encoded
// ids and filters, pacing through the connection's RateLimiter, and the token dance (401 code 124 →
// drop the token, fetch a new one once, retry once). Failures come back typed (zoom_errors.hpp).
// Thread-safe: workers share one ScimClient per connection.
#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/scim_urns.hpp"
#include "zoom/http_transport.hpp"
#include "zoom/rate_limiter.hpp"
#include "zoom/token_cache.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace h2r {

// The RateLimiter pause reason a Daily-limit 429 sets (the connection waits until the stated time).
inline constexpr const char* k_daily_limit_reason = "daily limit";

struct ZoomConnection {
  std::string name;
  OAuthCredentials credentials;
  std::string api_url;        // SCIM base, e.g. https://api.zoom.us/scim2
};

struct ScimUser {
  std::string id;
  std::string user_name;
  bool active = true;
  nlohmann::json body;        // as Zoom returned it (a create's: only when it names another userName, as text)
};

struct ScimGroup {
  std::string id;
  std::string display_name;
  // The member user ids, when Zoom's answer lists them (nullopt when it has no "members" array).
  std::optional<std::set<std::string>> members;
};

struct ScimUserPage {
  long long total = 0;
  long long start_index = 1;
  std::vector<ScimUser> users;
};

// One finished HTTP exchange, for metrics and logs.
struct ScimCallRecord {
  std::string connection;
  std::string method;
  std::string route;          // "/Users", "/Users/{id}", "/Groups/{id}", "/oauth/token"
  int status = 0;             // 0 = no answer
  std::chrono::microseconds latency{0};
};

struct ScimClientOptions {
  int max_rate_limit_retries = 5;                      // 429 (QPS) answers waited out within one call
  std::chrono::milliseconds default_retry_after{1000}; // when a 429 names no time
  std::chrono::milliseconds max_inline_wait{60'000};   // longer waits go back to the scheduler
  // A 429's pause (Retry-After, or default_retry_after without one) longer than this is not waited out
  // inside the call either: the call comes back paused. `run --once` sets 0, so that every wait counts
  // against its --max-wait (lib/daemon/daemon.cpp) rather than up to max_rate_limit_retries ×
  // max_inline_wait inside each call.
  std::chrono::milliseconds max_inline_pause{60'000};
  std::function<void(const ScimCallRecord&)> observer; // may be empty
  // Sleeps until the given time; returns false when the daemon is shutting down. Default: real sleep.
  std::function<bool(SystemTime)> sleep_until;
  // h2rd.yaml zoom.create_missing_groups: the provisioner creates a group the rules want that the
  // account lacks — in every connection (`create_missing_groups_all`) or in those named.
  bool create_missing_groups_all = false;
  std::vector<std::string> create_missing_groups;
};

class ScimClient {
public:
  ScimClient(ZoomConnection connection, HttpTransport& transport, TokenCache& tokens, RateLimiter& limiter,
             const Clock& clock, ScimClientOptions options = {});

  const std::string& name() const { return m_connection.name; }
  // Whether a missing group is created in this connection (ScimClientOptions::create_missing_groups).
  bool creates_missing_groups() const;

  // The user whose userName is `user_name` (case-insensitive at Zoom), or nullopt. Zoom's 400 "not
  // exist or not belong to this account" (a pending invitation) also counts as none.
  Result<std::optional<ScimUser>> find_by_user_name(const std::string& user_name);
  Result<ScimUser> get_user(const std::string& id);
  Result<ScimUserPage> list_users(long long start_index, int count);
  // POST /Users. An answer saying the user exists comes back as kind conflict. The user returned has
  // the answer's id, userName and active; its `body` stays null (read only those three, without
  // building the whole answer as a document: the provisioner needs the id).
  Result<ScimUser> create_user(const nlohmann::json& body);
  // The same with the body as JSON text already (`user_name` names the user in error messages): the
  // provisioner dumps a desired user once and shares the text.
  Result<ScimUser> create_user(const std::string& user_name, std::string body_text);
  // PUT /Users/{id}, which Zoom treats as a partial update: send schemas + the fields that change.
  Result<ScimUser> update_user(const std::string& id, const nlohmann::json& body);
  // PATCH /Users/{id} with Operations (capital O) replacing `active`.
  Result<void> set_active(const std::string& id, bool active);
  Result<void> delete_user(const std::string& id);

  // The group whose displayName is `display_name` exactly, else one that differs only in ASCII case (as
  // Zoom compares names), or nullopt.
  Result<std::optional<ScimGroup>> find_group(const std::string& display_name);
  Result<std::optional<std::string>> find_group_id(const std::string& display_name);
  // POST /Groups: a new group named `display_name`, as Zoom answers it (no members). Zoom's uniqueness
  // error (409: the name exists) is a conflict.
  Result<ScimGroup> create_group(const std::string& display_name);
  Result<void> add_group_member(const std::string& group_id, const std::string& user_id);
  Result<void> remove_group_member(const std::string& group_id, const std::string& user_id);

private:
  // `body`: the JSON text to send, moved from (nullptr: no body). The request is built once, not per retry.
  Result<HttpResponse> call(const std::string& method, const std::string& path, const std::string& route,
                            std::string* body, const std::string& what);
  Result<HttpResponse> call(const std::string& method, const std::string& path, const std::string& route,
                            const nlohmann::json& body, const std::string& what);
  bool wait_until(SystemTime t);

  ZoomConnection m_connection;
  HttpTransport& m_transport;
  TokenCache& m_tokens;
  RateLimiter& m_limiter;
  const Clock& m_clock;
  ScimClientOptions m_options;
};

ScimUser scim_user_from_json(nlohmann::json body);

// Reads a 200 answer of GET /Users (a SCIM ListResponse) asked from `start_index`: an object whose
// totalResults and startIndex, when present, are integers from 0 (1 for startIndex) to 10^12, and whose
// Resources, when present, is an array. Anything else is a transient error "WHAT: Zoom's answer: FIELD
// ..." naming the JSON path. Never throws, whatever the body.
Result<ScimUserPage> parse_user_list(std::string_view body, long long start_index, const std::string& what);

} // namespace h2r
