// The HTTP surface of zoom-sim: Zoom's OAuth and SCIM2 endpoints, plus the /_sim test API.
#pragma once

#include "sim_state.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace zoom_sim {

void register_oauth_routes(httplib::Server& server, SimState& sim);   // POST /oauth/token
void register_user_routes(httplib::Server& server, SimState& sim);    // {base}/Users…
void register_group_routes(httplib::Server& server, SimState& sim);   // {base}/Groups…
void register_sim_routes(httplib::Server& server, SimState& sim);     // /_sim/…

// --- shared by the SCIM routes (scim_common.cpp) ---

enum class RateCategory { light, medium };

// Wraps a SCIM handler with what every Zoom API call goes through, in order: statistics under
// `route` ("GET /Users/{id}"), latency, bearer-token check (401 code 124), missing scope
// (401 code 4711), daily cap and rate limit (429), injected 5xx. `inner` runs only if all pass.
httplib::Server::Handler guarded(SimState& sim, std::string route, RateCategory category,
                                 httplib::Server::Handler inner);

// Sleeps the configured latency.
void add_latency(const SimState& sim);

// Reads `filter=<attribute> eq "<value>"`. Absent filter → `value` stays nullopt. Any other filter
// answers 400 invalidFilter and returns false.
bool read_eq_filter(const httplib::Request& req, httplib::Response& res, const char* attribute,
                    std::optional<std::string>& value);

// Reads startIndex (1-based, default 1) and count (default and max 100). Answers 400 and returns
// false when they are not integers.
bool read_paging(const httplib::Request& req, httplib::Response& res, size_t& start_index, size_t& count);

// A SCIM ListResponse for `items` of `total`, starting at `start_index`.
nlohmann::json list_response(size_t total, size_t start_index, nlohmann::json items);

} // namespace zoom_sim
