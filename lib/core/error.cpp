#include "core/error.hpp"

namespace h2r {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::transient: return "transient";
  case ErrorKind::permanent: return "permanent";
  case ErrorKind::conflict: return "conflict";
  case ErrorKind::not_found: return "not_found";
  case ErrorKind::unauthorized: return "unauthorized";
  case ErrorKind::invalid: return "invalid";
  }
  return "unknown";
}

std::string_view to_string(ErrorReason reason) {
  switch (reason) {
  case ErrorReason::none: return "";
  case ErrorReason::unreachable: return "unreachable";
  case ErrorReason::no_answer: return "no_answer";
  case ErrorReason::tls: return "tls";
  case ErrorReason::rate_limited: return "rate_limited";
  case ErrorReason::daily_limit: return "daily_limit";
  case ErrorReason::paused: return "paused";
  case ErrorReason::token_refused: return "token_refused";
  case ErrorReason::connection_unhealthy: return "connection_unhealthy";
  case ErrorReason::key_missing: return "key_missing";
  case ErrorReason::fenced: return "fenced";
  case ErrorReason::owned_by_another: return "owned_by_another";
  case ErrorReason::connection_paused: return "connection_paused";
  }
  return "unknown";
}

} // namespace h2r
