// The check behind `h2rd connection test`: fetch a token, list one user, and say precisely what is
// wrong when that fails (cannot reach the host, bad credentials, missing scope, ...).
#pragma once

#include "core/clock.hpp"
#include "secrets/secret_box.hpp"
#include "store/store.hpp"
#include "zoom/scim_client.hpp"

#include <nlohmann/json.hpp>

namespace h2r {

struct ProbeReport {
  long long user_count = 0;
};

// Errors carry one sentence that names the problem and what to do; Zoom's code ("invalid_client",
// "unsupported_grant_type", "4711", ...) or h2r's reason (unreachable, tls, ...) as the cause was.
Result<ProbeReport> probe_connection(const ZoomConnection& connection, HttpTransport& transport, const Clock& clock);

// `h2rd connection test NAME` (and the console's Test button): probes the stored connection `name` and
// records the outcome as its health (a success heals an unhealthy or paused connection). An unknown
// name: unknown_connection(result); the secret is decrypted only to fetch the token and appears in no message.
Result<ProbeReport> test_stored_connection(Store& store, const SecretBox& box, const std::string& name,
                                           HttpTransport& transport, const Clock& clock);
bool unknown_connection(const Result<ProbeReport>& report);

// The `connection test --json` answer: {connection, ok, user_count} or {connection, ok, error: {code,
// message}} (Zoom's code when it gave one, else h2r's reason: unreachable, tls, not_found, ...).
nlohmann::json probe_json(const std::string& name, const Result<ProbeReport>& report);

} // namespace h2r
