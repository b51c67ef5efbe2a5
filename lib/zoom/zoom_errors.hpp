// Reading Zoom's failures: every answer that is not a success becomes a typed Error, so callers
// decide on kind (transient / permanent / conflict / not_found / unauthorized), never on strings.
#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"
#include "zoom/http_transport.hpp"

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace h2r {

inline constexpr std::size_t k_max_server_text_bytes = 500;

// Text from a server (an error body's detail, a transport's error) made fit to be copied into an
// event's reason, a log line or a report: anything that looks like a credential redacted ("Bearer X",
// "Basic X", a JWT "eyJ….….…", and the values of access_token, refresh_token, id_token,
// client_secret, password, secret keys in JSON, form or header style become "[redacted]"), then
// escaped as escape_for_log does (no control characters) and cut to k_max_server_text_bytes on a
// UTF-8 boundary with "…".
std::string server_text(std::string_view text);

// `text` with every occurrence of each of `secrets` (as is, and as a JSON string escapes it) replaced by
// "[redacted]": a server's answer scrubbed of the connection's own client secret and tokens before
// anything reads it. Secrets shorter than k_min_scrubbed_secret are left alone (a one-letter secret
// would garble every word).
inline constexpr std::size_t k_min_scrubbed_secret = 6;
std::string scrub_secrets(std::string text, std::initializer_list<std::string_view> secrets);

// The text of Zoom's error body: SCIM `detail` (with `status` a number or a string), Zoom's
// `{"code","message"}`, or OAuth's `{"error","reason"}`, passed through server_text(). Empty when the body says nothing readable.
std::string zoom_error_detail(const std::string& body);

// The longest wait a `Retry-After` can ask for: Zoom's daily limit resets within a day.
inline constexpr std::chrono::milliseconds k_max_retry_after{24 * 3600'000};

// `Retry-After` as seconds, an HTTP-date or an ISO-8601 date (Zoom); nullopt when absent or unreadable.
// The result lies in [now, now + k_max_retry_after] whatever the header says (no overflow).
std::optional<SystemTime> parse_retry_after(std::string_view value, SystemTime now);

// Classifies a non-2xx SCIM answer. `what` says what was attempted ("create user a@b.com"), for the message.
//  401 code 124 → unauthorized; 400/401 code 4711 → permanent (missing scope, code "4711");
//  404 → not_found; 409 → conflict; 429 → transient with retry_at (and daily_limit);
//  5xx, 408 → transient; other 4xx → permanent with Zoom's detail.
Error classify_scim_failure(const HttpResponse& response, std::string_view what, SystemTime now);

} // namespace h2r
