// Shared helpers of the resilience end-to-end tests (tests/e2e/resilience_*.cpp).
#pragma once

#include "support/h2r_env.hpp"
#include "support/test_paths.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>

namespace h2r::test {

// N hire events (evt-<first>…), employees E<i> "P<i> Res" in Engineering, as one JSON array.
inline std::string hires_json(int n, int first = 1) {
  std::string out = "[";
  for (int i = first; i < first + n; ++i) {
    if (i > first) out += ",";
    out += event_json("evt-" + std::to_string(i), "hire", employee("E" + std::to_string(i), "P" + std::to_string(i), "Res"));
  }
  return out + "]";
}

inline std::string hire_email(int i) { return "p" + std::to_string(i) + ".res@example.com"; }

// Polls `done` every `poll` until it is true or `timeout` passed (generous bounds, never asserted on).
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(500)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

// Waits until the daemon under test has ended at least `n` more scheduler cycles (the `last_cycle` of
// `h2rd status --json` took `n` new values): how a test says "for several cycles" without a fixed sleep.
// False when it did not within `bound` (a stuck daemon fails the test, it does not pass it).
inline bool wait_for_cycles(const H2rEnv& env, int n, std::chrono::milliseconds bound = std::chrono::seconds(60)) {
  auto last_cycle = [&] { return env.h2rd_json({"status"})["last_cycle"].dump(); };
  std::string last = last_cycle();
  int seen = 0;
  return eventually([&] {
    const std::string now = last_cycle();
    if (now != last) {
      last = now;
      ++seen;
    }
    return seen >= n;
  }, bound, std::chrono::milliseconds(200));
}

// `h2rd run` as a child process.
inline std::unique_ptr<ChildProcess> start_daemon(const H2rEnv& env) {
  return std::make_unique<ChildProcess>(std::vector<std::string>{h2rd_path(), "-c", env.config_path(), "run"});
}

// Queue counts from `h2rd status --json`.
inline nlohmann::json queue_of(const H2rEnv& env) { return env.h2rd_json({"status"})["queue"]; }

inline bool all_final(const H2rEnv& env) {
  auto q = queue_of(env);
  return q.value("pending", 0) == 0 && q.value("waiting", 0) == 0 && q.value("held", 0) == 0;
}

// Every hire 1..n exists exactly once in the sim, and nobody else.
inline void check_each_hire_once(H2rEnv& env, int n) {
  std::map<std::string, int> seen;
  for (const auto& u : env.sim().users()) ++seen[u.value("userName", "")];
  int wrong = 0;
  for (int i = 1; i <= n; ++i)
    if (seen[hire_email(i)] != 1) {
      if (++wrong <= 5) FAIL_CHECK(hire_email(i) << " exists " << seen[hire_email(i)] << " times");
    }
  CHECK(wrong == 0);
  CHECK(env.sim().users().size() == static_cast<std::size_t>(n));
}

inline int count_state(const nlohmann::json& events, const std::string& state) {
  int n = 0;
  for (const auto& e : events) n += e["state"] == state;
  return n;
}

} // namespace h2r::test
