#include "engine/circuit_breaker.hpp"

#include <algorithm>

namespace h2r {

std::string_view to_string(CircuitBreaker::State state) {
  switch (state) {
  case CircuitBreaker::State::closed: return "closed";
  case CircuitBreaker::State::open: return "open";
  case CircuitBreaker::State::half_open: return "half_open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(BreakerConfig config)
    : m_config(config), m_window(static_cast<std::size_t>(std::max(1, config.window)), 0),
      m_next_cooldown(config.cooldown) {}

CircuitBreaker::State CircuitBreaker::state(SystemTime now) const {
  if (!m_open) return State::closed;
  return now < m_open_until ? State::open : State::half_open;
}

CircuitBreaker::Admission CircuitBreaker::admit(SystemTime now) {
  switch (state(now)) {
  case State::closed: return {};
  case State::open: return {false, false, m_open_until};
  case State::half_open:
    if (m_probing && now - m_probe_started < k_probe_stale)
      return {false, false, now + std::min<std::chrono::milliseconds>(k_probe_wait, m_config.cooldown)};
    m_probing = true;
    m_probe_started = now;
    return {true, true, {}};
  }
  return {};
}

bool CircuitBreaker::on_success(SystemTime) {
  if (!m_open) {
    remember(false);
    return false;
  }
  // A straggler admitted before the breaker opened proves little: only the probe's answer closes it.
  if (!m_probing) return false;
  m_open = false;
  m_probing = false;
  m_open_until = {};
  m_next_cooldown = m_config.cooldown;
  clear_window();
  return true;
}

bool CircuitBreaker::on_failure(SystemTime now) {
  if (m_open) {
    if (!m_probing || now < m_open_until) return false;   // a straggler from before the breaker opened
    trip(now);                                             // the probe failed: open again, longer
    return true;
  }
  remember(true);
  const int min_calls = std::clamp(m_config.min_calls, 1, static_cast<int>(m_window.size()));
  if (m_count < min_calls) return false;
  if (static_cast<double>(m_failures) < m_config.failure_ratio * static_cast<double>(m_count)) return false;
  trip(now);
  return true;
}

void CircuitBreaker::cancel_probe() { m_probing = false; }

void CircuitBreaker::reset() {
  m_open = false;
  m_probing = false;
  m_open_until = {};
  m_next_cooldown = m_config.cooldown;
  m_last_cooldown = std::chrono::milliseconds(0);
  clear_window();
}

void CircuitBreaker::configure(const BreakerConfig& config) {
  // The window's outcomes, oldest first, of which the newest `size` are kept.
  const int size = std::max(1, config.window);
  std::vector<char> outcomes;
  outcomes.reserve(static_cast<std::size_t>(m_count));
  const int old_size = static_cast<int>(m_window.size());
  for (int i = 0; i < m_count; ++i)
    outcomes.push_back(m_window[static_cast<std::size_t>((m_next - m_count + i + old_size) % old_size)]);
  m_config = config;
  m_window.assign(static_cast<std::size_t>(size), 0);
  m_next = m_count = m_failures = 0;
  const std::size_t keep = std::min<std::size_t>(outcomes.size(), static_cast<std::size_t>(size));
  for (std::size_t i = outcomes.size() - keep; i < outcomes.size(); ++i) remember(outcomes[i] != 0);
  m_next_cooldown = m_open ? std::clamp(m_next_cooldown, config.cooldown, std::max(config.cooldown, config.max_cooldown))
                           : config.cooldown;
}

void CircuitBreaker::remember(bool failed) {
  char& slot = m_window[static_cast<std::size_t>(m_next)];
  if (m_count == static_cast<int>(m_window.size()))
    m_failures -= slot;   // the oldest outcome leaves the window
  else
    ++m_count;
  slot = failed ? 1 : 0;
  m_failures += slot;
  m_next = (m_next + 1) % static_cast<int>(m_window.size());
}

void CircuitBreaker::trip(SystemTime now) {
  const bool probe_failed = m_open;
  m_tripped_failures = probe_failed ? 1 : m_failures;
  m_tripped_calls = probe_failed ? 1 : m_count;
  m_open = true;
  m_probing = false;
  m_last_cooldown = m_next_cooldown;
  m_open_until = now + m_last_cooldown;
  m_next_cooldown = std::min(m_config.max_cooldown, m_next_cooldown * 2);
  clear_window();
}

void CircuitBreaker::clear_window() {
  std::fill(m_window.begin(), m_window.end(), 0);
  m_next = m_count = m_failures = 0;
}

} // namespace h2r
