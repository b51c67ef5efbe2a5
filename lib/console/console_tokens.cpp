#include "console/console_tokens.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace h2r {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool is_hex64(std::string_view v) {
  return v.size() == 64 && std::all_of(v.begin(), v.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

Result<void> write_new_file(const std::string& path) {
  auto secret = new_console_secret();
  if (!secret) return unexpected(std::move(secret).error());
  const std::string text = "# h2r console tokens: ROLE NAME TOKEN (viewer|reviewer). `h2rd console` prints the URL.\n"
                           "reviewer admin " + *secret + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return {};  // another process made it first: read theirs
    return fail(ErrorKind::permanent, fmt::format("console.tokens: cannot create {}: {}", path, std::strerror(errno)));
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return fail(ErrorKind::permanent, fmt::format("console.tokens: cannot write {}", path));
  }
  return {};
}

} // namespace

std::string_view to_string(ConsoleRole role) { return role == ConsoleRole::reviewer ? "reviewer" : "viewer"; }

Result<std::string> new_console_secret() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return fail(ErrorKind::permanent, "console: no random bytes from OpenSSL");
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::vector<ConsoleToken>> parse_console_tokens(std::string_view text, const std::string& path) {
  std::vector<ConsoleToken> out;
  std::set<std::string> names, values;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto bad = [&](const std::string& why) {
      return fail(ErrorKind::invalid, fmt::format("{}:{}: {} (expected: ROLE NAME TOKEN, ROLE viewer or reviewer, "
                                                  "NAME 1 to 64 of A-Za-z0-9._-, TOKEN 64 hex digits)", path, line_no, why));
    };
    auto words = words_of(line);
    if (words.empty() || words[0].front() == '#') continue;
    if (words.size() != 3) return bad(fmt::format("{} words", words.size()));
    ConsoleToken token;
    if (words[0] == "viewer") token.role = ConsoleRole::viewer;
    else if (words[0] == "reviewer") token.role = ConsoleRole::reviewer;
    else return bad("the role is not viewer or reviewer");
    token.name = std::string(words[1]);
    if (token.name.size() > 64 || !std::all_of(token.name.begin(), token.name.end(), is_name_char))
      return bad("the name is not 1 to 64 of A-Za-z0-9._-");
    token.value = std::string(words[2]);
    if (!is_hex64(token.value)) return bad("the token is not 64 lowercase hex digits");
    if (!names.insert(token.name).second) return bad("the name '" + token.name + "' is used twice");
    if (!values.insert(token.value).second) return bad("this token is used twice");
    if (out.size() >= k_console_max_tokens) return bad(fmt::format("more than {} tokens", k_console_max_tokens));
    out.push_back(std::move(token));
  }
  if (out.empty()) return fail(ErrorKind::invalid, path + ": no token (add a line ROLE NAME TOKEN)");
  return out;
}

Result<std::vector<ConsoleToken>> load_console_tokens(const std::string& path, bool create_when_missing) {
  if (create_when_missing && ::access(path.c_str(), F_OK) != 0 && errno == ENOENT)
    if (auto made = write_new_file(path); !made) return unexpected(std::move(made).error());
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return fail(errno == ENOENT ? ErrorKind::not_found : ErrorKind::permanent,
                fmt::format("console.tokens: cannot open {}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorKind::invalid, "console.tokens: " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return fail(ErrorKind::invalid, fmt::format("console.tokens: {} has mode {:04o}; group and others must have no access "
                                                "(chmod 600 {})", path, st.st_mode & 07777, path));
  }
  if (static_cast<std::size_t>(st.st_size) > k_console_token_file_max_bytes) {
    ::close(fd);
    return fail(ErrorKind::invalid, fmt::format("console.tokens: {} is larger than {} bytes", path, k_console_token_file_max_bytes));
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  ssize_t got = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (got < 0) return fail(ErrorKind::permanent, fmt::format("console.tokens: cannot read {}: {}", path, std::strerror(errno)));
  text.resize(static_cast<std::size_t>(got));
  return parse_console_tokens(text, path);
}

} // namespace h2r
