// StallProxy: a TCP proxy on 127.0.0.1 (ephemeral port) in front of one server, for tests of what h2r
// does when its database connection stalls (issue 25): stall_answers(true) stops forwarding what the
// server sends (its answers wait in the proxy, the requests still reach the server), stall_answers(false)
// delivers them late. stall_answers_after(TEXT) stalls them from the moment a request containing TEXT
// was forwarded (e.g. one SQL statement's text): the stall then lands exactly after that request, whose
// answer the client gets only when the stall ends. Two threads per connection (one per direction);
// every connection is closed when the proxy is destroyed.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace h2r::test {

class StallProxy {
public:
  // Throws std::runtime_error when it cannot listen.
  StallProxy(std::string upstream_host, int upstream_port);
  ~StallProxy();
  StallProxy(const StallProxy&) = delete;
  StallProxy& operator=(const StallProxy&) = delete;

  int port() const { return m_port; }
  void stall_answers(bool stalled) { m_stalled = stalled; }
  void stall_answers_after(std::string text);
  bool stalled() const { return m_stalled; }

private:
  void loop();
  int connect_upstream() const;

  std::string m_host;
  int m_upstream_port;
  int m_listen = -1;
  int m_port = 0;
  std::atomic<bool> m_stalled{false};
  std::atomic<bool> m_stop{false};
  mutable std::mutex m_mutex;
  std::string m_trigger;   // GUARDED_BY(m_mutex); "" = none
  std::thread m_thread;
};

} // namespace h2r::test
