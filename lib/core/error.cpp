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

} // namespace h2r
