#include "support/stall_proxy.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <mutex>
#include <thread>
#include <cerrno>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace h2r::test {
namespace {

// Writes all of `data` (blocking); false when the peer is gone.
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

} // namespace

StallProxy::StallProxy(std::string upstream_host, int upstream_port)
    : m_host(std::move(upstream_host)), m_upstream_port(upstream_port) {
  m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_listen < 0) throw std::runtime_error("stall proxy: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_listen, 64) != 0 ||
      ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(m_listen);
    throw std::runtime_error("stall proxy: cannot listen on 127.0.0.1");
  }
  m_port = ntohs(addr.sin_port);
  m_thread = std::thread([this] { loop(); });
}

StallProxy::~StallProxy() {
  m_stop = true;
  m_thread.join();
  ::close(m_listen);
}

void StallProxy::stall_answers_after(std::string text) {
  std::lock_guard lock(m_mutex);
  m_trigger = std::move(text);
}

int StallProxy::connect_upstream() const {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(m_upstream_port);
  if (::getaddrinfo(m_host.c_str(), port.c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

// Each connection gets two threads, one per direction, so a full buffer one way never stops the
// other (a pipelined batch fills both). The answers' thread only reads while not stalled.
void StallProxy::loop() {
  std::vector<std::thread> pumps;
  std::vector<int> fds;
  const auto pump = [this](int from, int to, bool answers) {
    std::array<char, 65536> buf{};
    for (;;) {
      if (m_stop) return;
      if (answers && m_stalled) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      pollfd p{from, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(from, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (!answers && n > 0) {   // stalled before the request leaves: its answer waits
        std::lock_guard lock(m_mutex);
        if (!m_trigger.empty() &&
            std::string_view(buf.data(), static_cast<std::size_t>(n)).find(m_trigger) != std::string_view::npos) {
          m_trigger.clear();
          m_stalled = true;
        }
      }
      if (n <= 0 || !write_all(to, buf.data(), static_cast<std::size_t>(n))) {
        ::shutdown(to, SHUT_RDWR);
        ::shutdown(from, SHUT_RDWR);
        return;
      }
    }
  };
  while (!m_stop) {
    pollfd p{m_listen, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int client = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = connect_upstream();
    if (server < 0) {
      ::close(client);
      continue;
    }
    fds.push_back(client);
    fds.push_back(server);
    pumps.emplace_back(pump, client, server, false);
    pumps.emplace_back(pump, server, client, true);
  }
  for (int fd : fds) ::shutdown(fd, SHUT_RDWR);
  for (auto& t : pumps) t.join();
  for (int fd : fds) ::close(fd);
}

} // namespace h2r::test
