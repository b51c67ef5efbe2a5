// The retry policy's wait (h2rd.yaml retry.base, retry.max): one formula for the engine, which
// reschedules an event after a transient failure, and for `h2rd reconcile`, which retries its calls.
#pragma once

#include <chrono>
#include <random>

namespace h2r {

// The wait after failed attempt `attempt` (1-based), full jitter: uniform in [0, cap] with
// cap = min(max, base·2^(attempt-1)), raised to at least min(floor, cap).
std::chrono::milliseconds jittered_backoff(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                           std::chrono::milliseconds floor, std::mt19937_64& rng);

} // namespace h2r
