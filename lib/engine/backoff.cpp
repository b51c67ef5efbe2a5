#include "engine/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace h2r {

std::chrono::milliseconds jittered_backoff(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                           std::chrono::milliseconds floor, std::mt19937_64& rng) {
  double cap = static_cast<double>(base.count()) * std::pow(2.0, std::max(0, attempt - 1));
  cap = std::min(cap, static_cast<double>(max.count()));
  std::uniform_real_distribution<double> dist(0.0, cap);
  // A floor keeps a retry from landing in the same instant, never above the cap.
  const long long floor_ms = std::min<long long>(floor.count(), static_cast<long long>(cap));
  return std::chrono::milliseconds(std::max<long long>(floor_ms, static_cast<long long>(dist(rng))));
}

} // namespace h2r
