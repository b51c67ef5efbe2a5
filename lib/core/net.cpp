#include "core/net.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace h2r {

bool is_loopback_host(std::string_view host) {
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(1, close - 1);
  }
  if (host.empty() || host.size() > 64) return false;
  std::string text(host);
  for (auto& c : text) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (text == "localhost" || text == "localhost.") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0) return true;
    static constexpr unsigned char k_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(v6.s6_addr, k_mapped_prefix, 12) == 0 && v6.s6_addr[12] == 127;
  }
  return false;
}

} // namespace h2r
