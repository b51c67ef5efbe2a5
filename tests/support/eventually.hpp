// Polls a condition the daemon under test should reach: true as soon as `pred()` is, false when it is
// still false after `bound` (a generous bound for the daemon to act, never a speed claim).
#pragma once

#include <chrono>
#include <thread>

namespace h2r::test {

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds bound = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

} // namespace h2r::test
