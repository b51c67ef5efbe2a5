// NotifyListener: a test stand-in for systemd's notify socket — an AF_UNIX datagram socket (a path,
// or an abstract "@name") that collects every message sent to it on a thread.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace h2r::test {

class NotifyListener {
public:
  // `name`: "/path/to/socket" or "@abstract-name".
  explicit NotifyListener(std::string name) : m_name(std::move(name)) {
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (m_fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (m_name.size() >= sizeof(addr.sun_path)) throw std::runtime_error("socket name too long: " + m_name);
    std::memcpy(addr.sun_path, m_name.data(), m_name.size());
    if (m_name[0] == '@') addr.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + m_name.size());
    if (::bind(m_fd, reinterpret_cast<const sockaddr*>(&addr), length) != 0)
      throw std::runtime_error("cannot bind notify socket " + m_name + ": " + std::strerror(errno));
    m_thread = std::thread([this] { pump(); });
  }
  ~NotifyListener() {
    m_stop = true;
    m_thread.join();
    ::close(m_fd);
    if (m_name[0] == '/') ::unlink(m_name.c_str());
  }
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  const std::string& name() const { return m_name; }

  std::vector<std::string> messages() const {
    std::lock_guard lock(m_mutex);
    return m_messages;
  }
  // Waits until a message containing `text` arrived at index >= `from`; returns its index, or -1 on timeout.
  int wait_for(const std::string& text, std::chrono::milliseconds timeout, std::size_t from = 0) const {
    std::unique_lock lock(m_mutex);
    int found = -1;
    m_cv.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < m_messages.size(); ++i)
        if (m_messages[i].find(text) != std::string::npos) {
          found = static_cast<int>(i);
          return true;
        }
      return false;
    });
    return found;
  }
  std::size_t count(const std::string& text) const {
    std::lock_guard lock(m_mutex);
    std::size_t n = 0;
    for (const auto& m : m_messages) n += m.find(text) != std::string::npos;
    return n;
  }

private:
  void pump() {
    char buffer[4096];
    while (!m_stop) {
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      {
        std::lock_guard lock(m_mutex);
        m_messages.emplace_back(buffer, static_cast<std::size_t>(n));
      }
      m_cv.notify_all();
    }
  }

  std::string m_name;
  int m_fd = -1;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
  mutable std::mutex m_mutex;
  mutable std::condition_variable m_cv;
  std::vector<std::string> m_messages;
};

} // namespace h2r::test
