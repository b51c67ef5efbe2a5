// URL pieces: splitting an absolute URL, and percent-encoding path segments and query values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace h2r {

struct UrlParts {
  std::string scheme;   // http | https
  std::string host;
  int port = 0;
  std::string path;     // begins with '/', includes the query; "/" when empty
  std::string origin() const;   // scheme://host:port
};

// nullopt for anything but http(s)://host[:port][/path].
std::optional<UrlParts> split_url(std::string_view url);

// Why `url` must not carry a client secret or token: http:// (cleartext) to a host that is not this
// machine (core/net.hpp is_loopback_host), unless `allow_insecure_http`. nullopt when it may (https://,
// loopback http://, or allowed); `flag` names the setting in the message ("--oauth-url").
std::optional<std::string> insecure_url_problem(std::string_view flag, std::string_view url, bool allow_insecure_http);

// RFC 3986 percent-encoding of everything except unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string percent_encode(std::string_view text);

// Joins a base URL and a path ("https://api.zoom.us/scim2" + "/Users") without doubling '/'.
std::string join_url(std::string_view base, std::string_view path);

} // namespace h2r
