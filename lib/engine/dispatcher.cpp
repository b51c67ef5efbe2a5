#include "engine/dispatcher.hpp"

#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <system_error>

namespace h2r {
namespace {

constexpr std::chrono::milliseconds k_resize_period{50};

} // namespace

int connection_concurrency(double rate_per_s, std::optional<std::chrono::microseconds> latency, int floor, int max) {
  max = std::max(1, max);
  floor = std::clamp(floor, 1, max);
  if (!latency) return floor;
  if (!(rate_per_s > 0) || !std::isfinite(rate_per_s)) return max;
  const double seconds = std::chrono::duration<double>(*latency).count();
  const double wanted = std::ceil(rate_per_s * std::max(0.0, seconds) * k_concurrency_headroom);
  if (!(wanted < static_cast<double>(max))) return max;   // also catches NaN and huge values
  return std::max(floor, static_cast<int>(wanted));
}

void LatencyEwma::observe(std::chrono::microseconds latency) {
  const double us = static_cast<double>(std::max<long long>(0, latency.count()));
  MutexLock lock(m_mutex);
  m_us = m_seen ? m_alpha * us + (1 - m_alpha) * m_us : us;
  m_seen = true;
}

std::optional<std::chrono::microseconds> LatencyEwma::value() const {
  MutexLock lock(m_mutex);
  if (!m_seen) return std::nullopt;
  return std::chrono::microseconds(static_cast<long long>(m_us));
}

LaneRunner::LaneRunner(FiberPool& pool, std::vector<Lane> lanes, Target target, Work work, Stop stop)
    : m_pool(pool), m_lanes(std::move(lanes)), m_target(std::move(target)), m_work(std::move(work)), m_stop(std::move(stop)),
      m_state(m_lanes.size()) {}

void LaneRunner::spawn(std::size_t lane, int wanted) {
  State& s = m_state[lane];
  while (s.running < wanted) {
    try {
      m_pool.spawn([this, lane] { lane_loop(lane); });
    } catch (const std::system_error& e) {
      // Out of memory for stacks: the lane goes on with those it has (or, with none, its items are given back).
      spdlog::error("dispatch.fiber_failed connection=\"{}\" fibers={} error=\"{}\"", escape_for_log(m_lanes[lane].key),
                    s.running, escape_for_log(e.what()));
      return;
    }
    ++s.running;
    ++m_alive;
    s.peak = std::max(s.peak, s.running);
  }
}

void LaneRunner::lane_loop(std::size_t lane) {
  const std::vector<std::size_t>& items = m_lanes[lane].items;
  for (;;) {
    // Asked outside the lock: the target may read the connection's limiter and latency.
    const int target = std::max(1, m_target(m_lanes[lane].key));
    const bool stopping = m_stop && m_stop();
    std::size_t item = 0;
    {
      MutexLock lock(m_mutex);
      State& s = m_state[lane];
      if (stopping || s.next >= items.size() || s.running > target) {
        --s.running;
        if (--m_alive == 0) m_done.notify_all();
        return;
      }
      item = items[s.next++];
      // More help only for items no fiber of the lane can take yet: the others may be just about to take
      // one, so count them as free (at the tail of a lane this under-provisions, never over).
      const auto left = static_cast<long long>(items.size() - s.next);
      spawn(lane, static_cast<int>(std::min<long long>(target, std::max<long long>(s.running, 1 + left))));
    }
    m_work(item);
  }
}

void LaneRunner::run() {
  MutexLock lock(m_mutex);
  for (std::size_t lane = 0; lane < m_lanes.size(); ++lane) {
    const auto size = static_cast<long long>(m_lanes[lane].items.size());
    if (size == 0) continue;
    lock.unlock();
    const int target = std::max(1, m_target(m_lanes[lane].key));
    lock.lock();
    spawn(lane, static_cast<int>(std::min<long long>(target, size)));
  }
  // Fibers re-size their lane when they take an item; this also looks every k_resize_period, so a lane
  // whose first calls are still out widens as soon as its connection's first answer says how far it is.
  while (!m_done.wait_for(lock, k_resize_period, [this]() H2R_REQUIRES(m_mutex) { return m_alive == 0; })) {
    for (std::size_t lane = 0; lane < m_lanes.size(); ++lane) {
      const auto left = static_cast<long long>(m_lanes[lane].items.size() - m_state[lane].next);
      if (left == 0 || m_state[lane].running == 0) continue;   // done, or being given back
      lock.unlock();
      const int target = std::max(1, m_target(m_lanes[lane].key));
      const bool stopping = m_stop && m_stop();
      lock.lock();
      if (stopping) break;
      const State& s = m_state[lane];
      const auto still_left = static_cast<long long>(m_lanes[lane].items.size() - s.next);
      if (s.running > 0) spawn(lane, static_cast<int>(std::min<long long>(target, std::max<long long>(s.running, still_left))));
    }
  }
  // Every fiber has said it ended (m_alive is 0) under m_mutex, and touches nothing of this object after.
}

std::vector<std::size_t> LaneRunner::untaken() const {
  MutexLock lock(m_mutex);
  std::vector<std::size_t> out;
  for (std::size_t lane = 0; lane < m_lanes.size(); ++lane)
    for (std::size_t i = m_state[lane].next; i < m_lanes[lane].items.size(); ++i) out.push_back(m_lanes[lane].items[i]);
  return out;
}

std::vector<std::pair<std::string, int>> LaneRunner::peak_fibers() const {
  MutexLock lock(m_mutex);
  std::vector<std::pair<std::string, int>> out;
  for (std::size_t lane = 0; lane < m_lanes.size(); ++lane) out.emplace_back(m_lanes[lane].key, m_state[lane].peak);
  return out;
}

} // namespace h2r
