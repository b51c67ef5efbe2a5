// The check behind `h2rd connection test`: fetch a token, list one user, and say precisely what is
// wrong when that fails (cannot reach the host, bad credentials, missing scope, ...).
#pragma once

#include "core/clock.hpp"
#include "zoom/scim_client.hpp"

namespace h2r {

struct ProbeReport {
  long long user_count = 0;
};

// Errors carry one sentence that names the problem and what to do; Zoom's code ("invalid_client",
// "unsupported_grant_type", "4711", ...) or h2r's reason (unreachable, tls, ...) as the cause was.
Result<ProbeReport> probe_connection(const ZoomConnection& connection, HttpTransport& transport, const Clock& clock);

} // namespace h2r
