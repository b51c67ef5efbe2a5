#include "zoom/url.hpp"

#include "core/net.hpp"

#include <charconv>

namespace h2r {

std::string UrlParts::origin() const { return scheme + "://" + host + ":" + std::to_string(port); }

std::optional<UrlParts> split_url(std::string_view url) {
  UrlParts parts;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  parts.scheme = std::string(url.substr(0, scheme_end));
  if (parts.scheme != "http" && parts.scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(scheme_end + 3);
  auto path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  parts.path = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (!parts.path.empty() && parts.path[0] == '?') parts.path = "/" + parts.path;
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    int value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value <= 0 || value > 65535)
      return std::nullopt;
    parts.port = value;
    parts.host = std::string(authority.substr(0, colon));
  } else {
    parts.host = std::string(authority);
    parts.port = parts.scheme == "https" ? 443 : 80;
  }
  if (parts.host.empty()) return std::nullopt;
  return parts;
}

std::optional<std::string> insecure_url_problem(std::string_view flag, std::string_view url, bool allow_insecure_http) {
  auto parts = split_url(url);
  if (!parts || parts->scheme != "http" || allow_insecure_http || is_loopback_host(parts->host)) return std::nullopt;
  return std::string(flag) + ": '" + std::string(url) + "' is http:// to " + parts->host +
         ", not this machine: the client secret and tokens would cross the network in clear text. Use https://, "
         "or add --allow-insecure-http to the connection if this is really meant (a test set-up)";
}

std::string percent_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xF];
    }
  }
  return out;
}

std::string join_url(std::string_view base, std::string_view path) {
  std::string out(base);
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (path.empty() || path.front() != '/') out += '/';
  out += path;
  return out;
}

} // namespace h2r
