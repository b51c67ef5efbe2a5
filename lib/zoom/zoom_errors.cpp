#include "zoom/zoom_errors.hpp"

#include "core/saturating.hpp"
#include "core/time.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace h2r {
namespace {

constexpr std::size_t k_max_detail_chars = 300;

std::string json_text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return {};
}

std::string zoom_code(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return {};
  return json_text(j, "code");
}

} // namespace

std::string zoom_error_detail(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::string detail;
  if (j.is_object()) {
    for (const char* key : {"detail", "message", "reason", "error_description", "error"}) {
      detail = json_text(j, key);
      if (!detail.empty()) break;
    }
  }
  if (detail.size() > k_max_detail_chars) detail = detail.substr(0, k_max_detail_chars) + "…";
  return detail;
}

std::optional<SystemTime> parse_retry_after(std::string_view value, SystemTime now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  // Digits only: a number of seconds, however large (clamped below, never overflowing).
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    double seconds = 0;
    std::from_chars(value.data(), value.data() + value.size(), seconds);
    return add_ms_saturating(now, seconds_to_ms_clamped(seconds, k_max_retry_after));
  }
  auto at = parse_http_or_iso_date(value);
  if (!at) return std::nullopt;
  // A date in the past means "now"; one further than the cap waits only the cap.
  return std::clamp(*at, now, add_ms_saturating(now, k_max_retry_after));
}

Error classify_scim_failure(const HttpResponse& response, std::string_view what, SystemTime now) {
  const std::string detail = zoom_error_detail(response.body);
  const std::string code = zoom_code(response.body);
  std::string message = std::string(what) + ": Zoom answered " + std::to_string(response.status);
  if (!detail.empty()) message += " \"" + detail + "\"";

  Error error{ErrorKind::permanent, message, response.status, code};
  if (code == "4711") {
    error.message = std::string(what) + ": the app lacks a scope Zoom requires: \"" + detail +
                    "\"; add it to the Server-to-Server OAuth app's scopes";
    return error;
  }
  switch (response.status) {
  case 401:
    error.kind = ErrorKind::unauthorized;
    break;
  case 404:
    error.kind = ErrorKind::not_found;
    break;
  case 409:
    error.kind = ErrorKind::conflict;
    break;
  case 408:
    error.kind = ErrorKind::transient;
    break;
  case 429: {
    error.kind = ErrorKind::transient;
    error.retry_at = parse_retry_after(response.header("Retry-After"), now);
    error.daily_limit = response.header("X-RateLimit-Type") == "Daily-limit";
    error.code = error.daily_limit ? "daily_limit" : "rate_limited";
    break;
  }
  default:
    if (response.status >= 500) error.kind = ErrorKind::transient;
    break;
  }
  return error;
}

} // namespace h2r
