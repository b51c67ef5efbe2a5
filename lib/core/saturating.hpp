// Deadlines built from outside values (Zoom's Retry-After and expires_in, config durations, a
// connection's rate limit): arithmetic that cannot overflow. SystemTime counts nanoseconds since 1970 in
// a 64-bit integer (libstdc++), so it ends in April 2262; an unchecked `now + huge` wraps into the past.
#pragma once

#include "core/clock.hpp"

#include <chrono>
#include <cmath>
#include <limits>

namespace h2r {

// No deadline h2r computes from an outside value lies further than this from the time it starts at:
// 100 years (well inside SystemTime's range from any date h2r accepts, 1900..2199).
inline constexpr Millis k_max_horizon{100LL * 366 * 24 * 3600'000};

// `d` clamped to [-k_max_horizon, k_max_horizon].
constexpr Millis clamp_to_horizon(Millis d) {
  if (d > k_max_horizon) return k_max_horizon;
  if (d < -k_max_horizon) return -k_max_horizon;
  return d;
}

// t + d with d clamped to the horizon and the sum clamped to SystemTime's range: never wraps.
inline SystemTime add_ms_saturating(SystemTime t, Millis d) {
  const auto step = std::chrono::duration_cast<SystemTime::duration>(clamp_to_horizon(d));
  if (step.count() > 0 && t > SystemTime::max() - step) return SystemTime::max();
  if (step.count() < 0 && t < SystemTime::min() - step) return SystemTime::min();
  return t + step;
}

// A number of seconds from outside (JSON, an HTTP header) as milliseconds clamped to [0, max];
// NaN and negatives give 0, +inf and anything above `max` give `max`. Never converts an out-of-range
// double to an integer (undefined behaviour).
inline Millis seconds_to_ms_clamped(double seconds, Millis max) {
  if (!(seconds > 0)) return Millis(0);
  const double ms = seconds * 1000.0;
  if (!(ms < static_cast<double>(max.count()))) return max;
  return Millis(static_cast<long long>(ms));
}

} // namespace h2r
