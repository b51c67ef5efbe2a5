// AlertSender: POSTs alerts as JSON to the config's `notify.webhook`, so that a stop which needs a
// person (a connection turned unhealthy, an event failed for good, the guard held deactivations) is
// not silent. Non-blocking: post() queues (bounded; the oldest alert is dropped, logged, when full)
// and one thread sends, retrying a failed POST a bounded number of times. Callers build the payload
// and must keep secrets out of it; the URL itself is never logged beyond its origin.
// Thread-safe.
#pragma once

#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "zoom/http_transport.hpp"

#include <nlohmann/json.hpp>

#include <deque>
#include <thread>

namespace h2r {

struct AlertOptions {
  std::size_t max_queued = 100;                      // alerts waiting to be sent
  int max_attempts = 4;                              // per alert, the first try included
  std::chrono::milliseconds retry_delay{2'000};      // doubled after each failed attempt
  std::chrono::milliseconds drain_on_stop{3'000};    // stop() sends what it can in this time
};

class AlertSender {
public:
  // `url`: http(s) URL; "" or a malformed URL turns alerts off (the latter logged as alert.disabled).
  AlertSender(std::string url, HttpTransport& transport, AlertOptions options = {});
  ~AlertSender();   // stop()
  AlertSender(const AlertSender&) = delete;
  AlertSender& operator=(const AlertSender&) = delete;

  bool enabled() const;
  // A new `notify.webhook` (a reload of h2rd.yaml): alerts posted from now on go there; "" turns them
  // off (alerts queued for the old URL are dropped, counted). Thread-safe.
  void set_url(const std::string& url);
  // Queues {"source":"h2rd","alert":name,"time":...,"host":...} merged with `fields`. Never blocks.
  void post(const std::string& name, nlohmann::json fields);
  // Sends what is queued for up to drain_on_stop, then stops the thread. Idempotent.
  void stop();

  // Counters for tests and metrics.
  std::size_t sent() const;
  std::size_t dropped() const;

private:
  void loop();
  // Checks `url` and sets m_url/m_origin ("" when empty or malformed, the latter logged).
  void take_url(std::string url) H2R_REQUIRES(m_mutex);

  HttpTransport& m_transport;
  AlertOptions m_options;
  mutable Mutex m_mutex;
  std::string m_url H2R_GUARDED_BY(m_mutex);      // "" = alerts off
  std::string m_origin H2R_GUARDED_BY(m_mutex);   // for logs
  CondVar m_cv;
  std::deque<std::string> m_queue H2R_GUARDED_BY(m_mutex);
  bool m_stopping H2R_GUARDED_BY(m_mutex) = false;
  std::chrono::steady_clock::time_point m_deadline H2R_GUARDED_BY(m_mutex){};
  std::size_t m_sent H2R_GUARDED_BY(m_mutex) = 0;
  std::size_t m_dropped H2R_GUARDED_BY(m_mutex) = 0;
  std::thread m_thread;
};

} // namespace h2r
