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

// RFC 3986 percent-encoding of everything except unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string percent_encode(std::string_view text);

// Joins a base URL and a path ("https://api.zoom.us/scim2" + "/Users") without doubling '/'.
std::string join_url(std::string_view base, std::string_view path);

} // namespace h2r
