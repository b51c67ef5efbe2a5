#include "ops/alerts.hpp"

#include "core/text.hpp"
#include "core/time.hpp"
#include "zoom/url.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

namespace h2r {
namespace {

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

} // namespace

AlertSender::AlertSender(std::string url, HttpTransport& transport, AlertOptions options)
    : m_transport(transport), m_options(options) {
  take_url(std::move(url));
  // Started even while alerts are off: a reload may turn them on (it waits idle until then).
  m_thread = std::thread([this] { loop(); });
}

void AlertSender::take_url(std::string url) {
  m_url.clear();
  m_origin.clear();
  if (url.empty()) return;
  auto parts = split_url(url);
  if (!parts) {
    spdlog::error("alert.disabled reason=\"notify.webhook is not an http(s) URL\"");
    return;
  }
  m_url = std::move(url);
  m_origin = parts->origin();
}

bool AlertSender::enabled() const {
  MutexLock lock(m_mutex);
  return !m_url.empty();
}

void AlertSender::set_url(const std::string& url) {
  MutexLock lock(m_mutex);
  take_url(url);
  if (m_url.empty() && !m_queue.empty()) {
    m_dropped += m_queue.size();
    spdlog::warn("alert.dropped count={} reason=\"notify.webhook turned off\"", m_queue.size());
    m_queue.clear();
  }
}

AlertSender::~AlertSender() { stop(); }

void AlertSender::post(const std::string& name, nlohmann::json fields) {
  if (!enabled()) return;   // checked again under the lock below: set_url may turn alerts off meanwhile
  nlohmann::json body = {{"source", "h2rd"}, {"alert", name}, {"host", host_name()},
                         {"time", format_utc(std::chrono::system_clock::now())}};
  if (fields.is_object()) body.update(fields);
  MutexLock lock(m_mutex);
  if (m_stopping || m_url.empty()) return;
  if (m_queue.size() >= m_options.max_queued) {
    m_queue.pop_front();
    ++m_dropped;
    spdlog::warn("alert.dropped reason=\"queue full\" max={}", m_options.max_queued);
  }
  m_queue.push_back(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  m_cv.notify_all();
}

void AlertSender::loop() {
  MutexLock lock(m_mutex);
  for (;;) {
    m_cv.wait(lock, [this]() H2R_REQUIRES(m_mutex) { return m_stopping || !m_queue.empty(); });
    if (m_queue.empty() || (m_stopping && std::chrono::steady_clock::now() >= m_deadline)) return;
    std::string body = std::move(m_queue.front());
    m_queue.pop_front();
    const std::string url = m_url, origin = m_origin;   // a reload may change them while we send
    auto delay = m_options.retry_delay;
    for (int attempt = 1;; ++attempt) {
      lock.unlock();
      HttpRequest request{"POST", url, {{"User-Agent", "h2rd"}}, body, "application/json"};
      auto response = m_transport.send(request);
      lock.lock();
      if (response && response->status >= 200 && response->status < 300) {
        ++m_sent;
        break;
      }
      const std::string why = response ? "HTTP " + std::to_string(response->status) : response.error().message;
      if (attempt >= m_options.max_attempts) {
        ++m_dropped;
        spdlog::error("alert.failed origin={} attempts={} error=\"{}\"", origin, attempt, escape_for_log(why));
        break;
      }
      spdlog::warn("alert.retry origin={} attempt={} error=\"{}\"", origin, attempt, escape_for_log(why));
      auto until = std::chrono::steady_clock::now() + delay;
      if (m_stopping) until = std::min(until, m_deadline);
      m_cv.wait_until(lock, until, [&]() H2R_REQUIRES(m_mutex) {
        return m_stopping && std::chrono::steady_clock::now() >= m_deadline;
      });
      if (m_stopping && std::chrono::steady_clock::now() >= m_deadline) {
        ++m_dropped;
        break;
      }
      delay *= 2;
    }
  }
}

void AlertSender::stop() {
  {
    MutexLock lock(m_mutex);
    if (!m_stopping) {
      m_stopping = true;
      m_deadline = std::chrono::steady_clock::now() + m_options.drain_on_stop;
    }
  }
  m_cv.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

std::size_t AlertSender::sent() const {
  MutexLock lock(m_mutex);
  return m_sent;
}

std::size_t AlertSender::dropped() const {
  MutexLock lock(m_mutex);
  return m_dropped;
}

} // namespace h2r
