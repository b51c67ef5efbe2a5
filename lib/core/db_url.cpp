#include "core/db_url.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <sys/stat.h>
#include <string>
#include <utility>
#include <vector>

namespace h2r {
namespace {

// The userinfo of a URL: between "://" and the last '@' before the first '/', '?' or '#'.
struct UserInfo {
  std::size_t begin = 0;
  std::size_t end = 0;   // the '@'; begin == end: none
};

UserInfo user_info(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const std::size_t begin = scheme + 3;
  const std::size_t authority_end = std::min(url.find_first_of("/?#", begin), url.size());
  const auto at = url.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < begin) return {};
  return {begin, at};
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The positions [begin, end) of each "password=VALUE" value in the query.
template <class Each>
void each_password_param(std::string_view url, Each&& each) {
  const auto query = url.find('?');
  if (query == std::string_view::npos) return;
  std::size_t pos = query + 1;
  const std::size_t stop = std::min(url.find('#', pos), url.size());
  while (pos < stop) {
    const std::size_t amp = std::min(url.find('&', pos), stop);
    const std::string_view param = url.substr(pos, amp - pos);
    const auto eq = param.find('=');
    // libpq decodes %-escapes in keys too: "pass%77ord" is refused as well.
    std::string key = lower(param.substr(0, eq));
    std::string decoded;
    for (std::size_t i = 0; i < key.size(); ++i) {
      if (key[i] == '%' && i + 2 < key.size() && std::isxdigit(static_cast<unsigned char>(key[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(key[i + 2]))) {
        decoded += static_cast<char>(std::stoi(key.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        decoded += key[i];
      }
    }
    if (decoded == "password") each(eq == std::string_view::npos ? amp : pos + eq + 1, amp);
    pos = amp + 1;
  }
}

} // namespace

bool is_database_url(std::string_view database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

std::string url_password_part(std::string_view url) {
  const auto info = user_info(url);
  if (info.begin != info.end && url.substr(info.begin, info.end - info.begin).find(':') != std::string_view::npos)
    return "user:PASSWORD@";
  bool param = false;
  each_password_param(url, [&](std::size_t, std::size_t) { param = true; });
  return param ? "password=" : "";
}

std::string redact_database(std::string_view database) {
  if (!is_database_url(database)) return std::string(database);
  std::string out(database);
  // Parameters first (they come after the userinfo, so its positions stay valid).
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  each_password_param(database, [&](std::size_t b, std::size_t e) { spans.emplace_back(b, e); });
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) out.replace(it->first, it->second - it->first, "***");
  const auto info = user_info(database);
  if (info.begin != info.end) {
    const auto colon = database.substr(info.begin, info.end - info.begin).find(':');
    if (colon != std::string_view::npos)
      out.replace(info.begin + colon + 1, info.end - (info.begin + colon + 1), "***");
  }
  return out;
}

std::optional<std::string> password_file_problem(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::string("cannot be read: ") + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return std::string("is not a regular file");
  if ((st.st_mode & 077) != 0)
    return fmt::format("is accessible by group or others (mode {:04o}); it must be private: chmod 600 {}",
                       st.st_mode & 07777, file);
  return std::nullopt;
}

} // namespace h2r
