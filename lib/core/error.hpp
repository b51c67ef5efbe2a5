// Error: what went wrong, and — the part callers act on — what kind of wrong it is.
#pragma once

#include "core/expected.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace h2r {

// The distinction that decides what happens next (docs/style.md "Errors as values").
enum class ErrorKind {
  transient,    // retry later with backoff: 5xx, timeout, connection reset, 429
  permanent,    // retrying will not help until a person changes something: 400, 403, invalid_client, 4711
  conflict,     // the thing already exists (e.g. create of an existing Zoom user): link to it instead
  not_found,    // the thing is not there (404, unknown id, unknown name)
  unauthorized, // the access token was refused (401 code 124): drop it, fetch a new one once, retry once
  invalid,      // bad input from a file, the command line or the config: nothing was changed
};

std::string_view to_string(ErrorKind kind);

// Internal causes that h2r itself acts on (the engine, the connection registry, the CLI), as a type
// the compiler checks. Zoom's own codes ("invalid_client", "4711", "124") stay data in Error::code.
enum class ErrorReason {
  none,
  unreachable,          // no connection to the host (DNS, connect, connect timeout)
  no_answer,            // connected, but no (complete) answer: read timeout, reset
  tls,                  // the TLS certificate could not be verified, or CA certificates not loaded
  rate_limited,         // Zoom's 429 (per-second/minute budget)
  daily_limit,          // Zoom's 429 with X-RateLimit-Type: Daily-limit
  paused,               // the rate limiter holds the connection longer than one call may wait
  token_refused,        // credentials or scopes refused (invalid_client, unsupported_grant_type, 4711)
  connection_unhealthy, // the registry stopped calls: credentials refused, a person must act
  connection_paused,    // the registry holds calls for a while: circuit open, probing, daily limit
  key_missing,          // the secret key file is gone while the database holds sealed secrets
  fenced,               // a changing SCIM call not sent: the event's claim no longer holds (zoom/call_fence.hpp)
  owned_by_another,     // the Zoom user is linked to another employee: the event is held as a conflict
};

std::string_view to_string(ErrorReason reason);

struct Error {
  ErrorKind kind = ErrorKind::permanent;
  std::string message;   // one sentence for a person; never contains a secret
  int http_status = 0;   // 0 when no HTTP answer was involved
  std::string code;      // machine code when the peer gave one: "invalid_client", "4711", "124", ...
  ErrorReason reason = ErrorReason::none;   // h2r's own classification, when one applies
  // For rate limits and outages: the earliest moment a retry may be made, when the peer said so.
  std::optional<std::chrono::system_clock::time_point> retry_at;
  bool daily_limit = false; // a 429 with X-RateLimit-Type: Daily-limit

  static Error transient(std::string message) { return {ErrorKind::transient, std::move(message)}; }
  static Error permanent(std::string message) { return {ErrorKind::permanent, std::move(message)}; }
  static Error conflict(std::string message) { return {ErrorKind::conflict, std::move(message)}; }
  static Error not_found(std::string message) { return {ErrorKind::not_found, std::move(message)}; }
  static Error invalid(std::string message) { return {ErrorKind::invalid, std::move(message)}; }

  bool is_transient() const { return kind == ErrorKind::transient; }
};

template <class T>
using Result = Expected<T, Error>;

inline Unexpected<Error> fail(ErrorKind kind, std::string message) {
  return Unexpected<Error>(Error{kind, std::move(message)});
}

} // namespace h2r
