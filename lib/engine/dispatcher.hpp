// Per-connection concurrency (issue 16). A connection at rate R whose calls take L seconds needs about
// R × L calls in flight to use its limit (Little's law); one global worker count is either too few for
// a fast, far account or holds threads in a slow one's limiter that other accounts need. So each
// connection gets a lane of its own: fibers that take only its events, as many as
// connection_concurrency() says for its rate and observed latency, re-sized after every event. The
// RateLimiter stays the gate: extra fibers wait for a slot, they never add calls. The fibers run on
// the engine's FiberPool (core/fiber.hpp), a few threads for every lane together (issue 30): a fiber
// waiting for its slot or for Zoom's answer holds no thread.
#pragma once

#include "core/fiber.hpp"
#include "core/mutex.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace h2r {

// Calls in flight per unit of rate × latency: room for latency jitter and the work between calls
// (planning, recording the outcome) that the transport's latency does not see.
inline constexpr double k_concurrency_headroom = 1.5;
// A connection not answered yet gets `floor` fibers: a first contact (or bad credentials) is not a
// flood of token requests, and its lane widens as soon as the connection's first call is answered
// (LaneRunner asks again after every item).

// ceil(rate × latency × headroom), at least `floor` (and 1), at most `max` (and `floor` at most `max`).
// A rate that is not positive (unlimited) gets `max`; no latency known yet (nullopt) gets `floor`.
int connection_concurrency(double rate_per_s, std::optional<std::chrono::microseconds> latency, int floor, int max);

// An exponentially weighted moving average of call latency: the newest call weighs `alpha`. Thread-safe.
class LatencyEwma {
public:
  explicit LatencyEwma(double alpha = 0.2) : m_alpha(alpha) {}
  void observe(std::chrono::microseconds latency);
  std::optional<std::chrono::microseconds> value() const;   // nullopt before the first observation

private:
  mutable Mutex m_mutex;
  const double m_alpha;
  double m_us H2R_GUARDED_BY(m_mutex) = 0;
  bool m_seen H2R_GUARDED_BY(m_mutex) = false;
};

// Runs items in lanes, each lane on fibers of its own. A lane has as many fibers as target(key) says
// (asked again after each item, so a lane grows as its latency becomes known and shrinks when it
// falls), never more than it has items left. Items of one lane start in order; a lane whose items wait
// (a slow or paused account) holds only its own fibers. run() returns when every lane is empty or
// stop() said so, and every fiber it started has ended; items never started are then listed by
// untaken(). run() must not be called on a fiber of `pool`.
class LaneRunner {
public:
  struct Lane {
    std::string key;                     // the connection ("" = events that call no connection)
    std::vector<std::size_t> items;      // indices the caller's `work` function understands
  };
  using Target = std::function<int(const std::string& key)>;
  using Work = std::function<void(std::size_t item)>;
  using Stop = std::function<bool()>;

  LaneRunner(FiberPool& pool, std::vector<Lane> lanes, Target target, Work work, Stop stop);
  void run();
  std::vector<std::size_t> untaken() const;
  // The most fibers any lane had at once during run(), by lane key (for logs and tests).
  std::vector<std::pair<std::string, int>> peak_fibers() const;

private:
  struct State {
    std::size_t next = 0;   // the next item to take
    int running = 0;        // fibers of this lane alive
    int peak = 0;
  };
  void lane_loop(std::size_t lane);
  void spawn(std::size_t lane, int wanted) H2R_REQUIRES(m_mutex);   // starts fibers until `wanted` run

  FiberPool& m_pool;
  std::vector<Lane> m_lanes;
  Target m_target;
  Work m_work;
  Stop m_stop;
  mutable Mutex m_mutex;
  CondVar m_done;          // m_alive fell to 0
  std::vector<State> m_state H2R_GUARDED_BY(m_mutex);
  int m_alive H2R_GUARDED_BY(m_mutex) = 0;
};

} // namespace h2r
