#include "zoom/zoom_errors.hpp"

#include "core/text.hpp"
#include "core/saturating.hpp"
#include "core/time.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace h2r {
namespace {

constexpr std::size_t k_max_code_bytes = 100;
constexpr std::string_view k_redacted = "[redacted]";
constexpr std::size_t k_min_scheme_token = 8; // "Bearer X": shorter X is a word ("Basic plan"), not a credential

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_nocase(std::string_view text, std::size_t at, std::string_view word) {
  if (text.size() - at < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (lower(text[at + i]) != word[i]) return false;
  return true;
}

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Characters a token, a secret or a JWT is made of (base64, base64url, hex, JWT dots, '~' and '+/=').
bool is_token_char(char c) {
  return is_word_char(c) || c == '-' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

// Redacts what follows `at` (after the scheme or key and its separator): the run of token characters.
std::size_t skip_token(std::string_view text, std::size_t at) {
  while (at < text.size() && is_token_char(text[at])) ++at;
  return at;
}

// Credentials in `text` replaced by "[redacted]"; one left-to-right pass, linear in the length.
std::string redact_credentials(std::string_view text) {
  static constexpr std::string_view k_schemes[] = {"bearer", "basic"};
  static constexpr std::string_view k_keys[] = {"access_token", "refresh_token", "id_token", "client_secret",
                                                "password", "secret"};
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const bool word_start = i == 0 || !is_word_char(text[i - 1]);
    std::size_t value_at = std::string_view::npos;
    if (word_start) {
      for (auto scheme : k_schemes) {
        if (!starts_with_nocase(text, i, scheme)) continue;
        std::size_t j = i + scheme.size();
        if (j >= text.size() || (text[j] != ' ' && text[j] != '\t')) continue;
        while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
        if (skip_token(text, j) - j >= k_min_scheme_token) value_at = j;
        break;
      }
      for (auto key : k_keys) {
        if (value_at != std::string_view::npos || !starts_with_nocase(text, i, key)) continue;
        std::size_t j = i + key.size();
        if (j < text.size() && is_word_char(text[j])) continue; // a longer word ("secrets")
        // key"?  then ':' or '=' (spaces around), then an optional opening quote
        if (j < text.size() && (text[j] == '"' || text[j] == '\'')) ++j;
        while (j < text.size() && text[j] == ' ') ++j;
        if (j >= text.size() || (text[j] != ':' && text[j] != '=')) continue;
        ++j;
        while (j < text.size() && text[j] == ' ') ++j;
        if (j < text.size() && (text[j] == '"' || text[j] == '\'')) ++j;
        if (j < text.size() && is_token_char(text[j])) value_at = j;
      }
      if (value_at == std::string_view::npos && starts_with_nocase(text, i, "eyj")) { // a JWT
        const std::size_t end = skip_token(text, i);
        const auto token = text.substr(i, end - i);
        if (std::count(token.begin(), token.end(), '.') >= 2 && token.size() >= 20) {
          out += k_redacted;
          i = end;
          continue;
        }
      }
    }
    if (value_at != std::string_view::npos) {
      out.append(text.substr(i, value_at - i));
      out += k_redacted;
      i = skip_token(text, value_at);
      continue;
    }
    out += text[i++];
  }
  return out;
}

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
  return server_text(truncate_utf8(json_text(j, "code"), k_max_code_bytes));
}

} // namespace

std::string scrub_secrets(std::string text, std::initializer_list<std::string_view> secrets) {
  auto replace_all = [&text](std::string_view secret) {
    if (secret.size() < k_min_scrubbed_secret) return;
    for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + k_redacted.size()))
      text.replace(at, secret.size(), k_redacted);
  };
  for (auto secret : secrets) {
    replace_all(secret);
    const std::string quoted = nlohmann::json(std::string(secret)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (quoted.size() - 2 != secret.size()) replace_all(std::string_view(quoted).substr(1, quoted.size() - 2));
  }
  return text;
}

std::string zoom_error_detail(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::string detail;
  if (j.is_object()) {
    for (const char* key : {"detail", "message", "reason", "error_description", "error"}) {
      detail = json_text(j, key);
      if (!detail.empty()) break;
    }
  }
  return server_text(detail);
}

std::string server_text(std::string_view text) {
  return escape_for_log(redact_credentials(text), k_max_server_text_bytes, "");
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
    error.reason = ErrorReason::token_refused;
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
    error.reason = error.daily_limit ? ErrorReason::daily_limit : ErrorReason::rate_limited;
    break;
  }
  default:
    if (response.status >= 500) error.kind = ErrorKind::transient;
    break;
  }
  return error;
}

} // namespace h2r
