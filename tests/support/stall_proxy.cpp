#include "support/stall_proxy.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
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

struct Pair {
  int client;
  int server;
};

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

void StallProxy::loop() {
  std::vector<Pair> pairs;
  std::array<char, 65536> buf{};
  while (!m_stop) {
    const bool stalled = m_stalled;
    std::vector<pollfd> fds{{m_listen, POLLIN, 0}};
    for (const auto& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, static_cast<short>(stalled ? 0 : POLLIN), 0});
    }
    if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int client = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        const int server = connect_upstream();
        if (server >= 0) pairs.push_back({client, server});
        else ::close(client);
      }
    }
    std::vector<Pair> open;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      bool alive = true;
      // Forwards what `from` has; returns how many bytes (0 when none or the pair ended).
      const auto forward = [&](const pollfd& from, int to) -> std::size_t {
        if (!alive || !(from.revents & (POLLIN | POLLHUP | POLLERR))) return 0;
        const ssize_t n = ::recv(from.fd, buf.data(), buf.size(), 0);
        if (n <= 0 ? !(n < 0 && errno == EINTR) : !write_all(to, buf.data(), static_cast<std::size_t>(n))) alive = false;
        return alive && n > 0 ? static_cast<std::size_t>(n) : 0;
      };
      if (const std::size_t n = forward(fds[1 + 2 * i], pairs[i].server)) {
        std::lock_guard lock(m_mutex);
        if (!m_trigger.empty() && std::string_view(buf.data(), n).find(m_trigger) != std::string_view::npos) {
          m_trigger.clear();
          m_stalled = true;
        }
      }
      if (!stalled && !m_stalled) forward(fds[2 + 2 * i], pairs[i].client);
      if (alive) {
        open.push_back(pairs[i]);
      } else {
        ::close(pairs[i].client);
        ::close(pairs[i].server);
      }
    }
    pairs.swap(open);
  }
  for (const auto& p : pairs) {
    ::close(p.client);
    ::close(p.server);
  }
}

} // namespace h2r::test
