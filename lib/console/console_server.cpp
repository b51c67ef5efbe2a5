#include "console/console_server.hpp"

#include "core/text.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <sys/stat.h>

namespace h2r {
namespace {

// Cookies are not isolated by port: the name carries the port, so two consoles on one host keep
// their sessions apart (the CSRF token, which only the page holds, is what isolates them from others).
std::string cookie_name(const httplib::Request& req) { return "h2r_session_" + std::to_string(req.local_port); }
constexpr std::size_t k_max_header_value = 4096;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// "host:port" / "[v6]:port" / "host" → the host name, lower case; "" when malformed.
std::string host_name(const std::string& header) {
  if (header.empty() || header.size() > 300) return "";
  if (header.front() == '[') {
    auto close = header.find(']');
    if (close == std::string::npos) return "";
    return lower(header.substr(0, close + 1));
  }
  return lower(header.substr(0, header.rfind(':')));
}

bool is_console_path(const std::string& path) {
  return path == "/" || path.rfind("/ui/", 0) == 0 || path == "/ui" || path.rfind("/api/", 0) == 0;
}

bool changes_state(const std::string& method) { return method != "GET" && method != "HEAD"; }

std::string cookie_value(const httplib::Request& req, const std::string& name) {
  const std::string header = req.get_header_value("Cookie");
  if (header.size() > k_max_header_value) return "";
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    part.erase(0, part.find_first_not_of(' '));
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

} // namespace

void console_json(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void console_error(httplib::Response& res, int status, const std::string& message) {
  console_json(res, {{"error", message}}, status);
}

Console::Console(Store& store, Config config, std::vector<ConsoleToken> tokens, const Clock& clock,
                 std::vector<std::string> extra_hosts, ConsoleLimits limits)
    : m_store(store), m_config(std::move(config)), m_tokens(std::move(tokens)), m_clock(clock), m_limits(limits) {
  m_hosts = {"localhost", "127.0.0.1", "[::1]"};
  for (auto& h : extra_hosts) m_hosts.push_back(lower(h));
  m_api_bucket.tokens = m_limits.api_burst;
  m_login_bucket.tokens = m_limits.login_failure_burst;
}

Console::~Console() = default;

std::string Console::login_path(const ConsoleToken& token) { return "/ui/#token=" + token.value; }

long long Console::now_ms() const { return to_unix_ms(m_clock.now()); }

bool Console::take(Bucket& bucket, double rate, double burst) {
  // Rates are bounds for the server's sake, measured on the steady clock (not the event clock).
  const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch()).count();
  if (bucket.last_ms != 0)
    bucket.tokens = std::min(burst, bucket.tokens + rate * static_cast<double>(now - bucket.last_ms) / 1000.0);
  bucket.last_ms = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

bool Console::host_allowed(const std::string& host_header) const {
  const std::string name = host_name(host_header);
  return !name.empty() && std::find(m_hosts.begin(), m_hosts.end(), name) != m_hosts.end();
}

bool Console::screen(const httplib::Request& req, httplib::Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
  res.set_header("Cross-Origin-Opener-Policy", "same-origin");
  res.set_header("Cross-Origin-Resource-Policy", "same-origin");
  if (!host_allowed(req.get_header_value("Host"))) {
    console_error(res, 403, "this Host is not allowed: open the console as http://127.0.0.1:PORT or http://localhost:PORT "
                            "(remote admins: an SSH tunnel)");
    return false;
  }
  if (changes_state(req.method)) {
    const std::string origin = req.get_header_value("Origin");
    if (!origin.empty() && origin != "http://" + req.get_header_value("Host")) {
      console_error(res, 403, "a request from another origin may not change anything");
      return false;
    }
    if (req.get_header_value("Sec-Fetch-Site") == "cross-site") {
      console_error(res, 403, "a cross-site request may not change anything");
      return false;
    }
    const std::string type = req.get_header_value("Content-Type");
    if (req.method == "POST" && type.rfind("application/json", 0) != 0) {
      console_error(res, 415, "send the body as Content-Type: application/json");
      return false;
    }
  }
  if (req.path.rfind("/api/", 0) == 0) {
    MutexLock lock(m_mutex);
    if (!take(m_api_bucket, m_limits.api_rate, m_limits.api_burst)) {
      res.set_header("Retry-After", "1");
      console_error(res, 429, "too many requests; try again in a second");
      return false;
    }
  }
  return true;
}

int Console::set_tokens(std::vector<ConsoleToken> tokens) {
  MutexLock lock(m_mutex);
  m_tokens = std::move(tokens);
  return static_cast<int>(std::erase_if(m_sessions, [this](const auto& entry) H2R_REQUIRES(m_mutex) {
    const Session& s = entry.second;
    return std::none_of(m_tokens.begin(), m_tokens.end(), [&](const ConsoleToken& t) {
      return t.name == s.name && t.role == s.role && same_secret(t.value, s.token);
    });
  }));
}

void Console::watch_token_file(std::string path) {
  {
    MutexLock lock(m_mutex);
    m_token_file = std::move(path);
    m_token_file_state.clear();
  }
  refresh_tokens();
}

void Console::refresh_tokens() {
  std::string path;
  std::string seen;
  {
    MutexLock lock(m_mutex);
    if (m_token_file.empty()) return;
    path = m_token_file;
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0)
    seen = fmt::format("{} {} {} {} {}.{} {}.{}", st.st_dev, st.st_ino, st.st_mode, st.st_size, st.st_mtim.tv_sec,
                       st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
  {
    MutexLock lock(m_mutex);
    if (seen == m_token_file_state) return;
    m_token_file_state = seen;
  }
  auto tokens = load_console_tokens(path, false);
  if (!tokens) {
    const int ended = set_tokens({});
    spdlog::warn("console.tokens_revoked file=\"{}\" sessions_ended={} error=\"{}\"", escape_for_log(path), ended,
                 escape_for_log(tokens.error().message));
    return;
  }
  const int ended = set_tokens(std::move(*tokens));
  spdlog::info("console.tokens_reloaded file=\"{}\" sessions_ended={}", escape_for_log(path), ended);
}

bool Console::bearer_failure_allowed(const std::string& client) {
  MutexLock lock(m_mutex);
  auto it = m_bearer_failures.find(client);
  if (it == m_bearer_failures.end()) {
    if (m_bearer_failures.size() >= m_limits.max_failure_clients) {
      // Full: forget the clients whose limit has refilled; if none has, all new ones share "*".
      const double burst = m_limits.bearer_failure_burst;
      const double rate = m_limits.bearer_failure_rate;
      std::erase_if(m_bearer_failures, [&](auto& entry) {
        Bucket probe = entry.second;
        take(probe, rate, burst);
        return entry.first != "*" && probe.tokens + 1 >= burst;
      });
    }
    const std::string key = m_bearer_failures.size() >= m_limits.max_failure_clients ? "*" : client;
    it = m_bearer_failures.try_emplace(key, Bucket{m_limits.bearer_failure_burst, 0}).first;
  }
  return take(it->second, m_limits.bearer_failure_rate, m_limits.bearer_failure_burst);
}

std::optional<ConsolePrincipal> Console::principal(const httplib::Request& req) {
  refresh_tokens();
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0 && auth.size() <= k_max_header_value) {
    const std::string value = auth.substr(7);
    MutexLock lock(m_mutex);
    for (const auto& t : m_tokens)
      if (same_secret(t.value, value)) return ConsolePrincipal{t.name, t.role, false, ""};
    return std::nullopt;
  }
  const std::string id = cookie_value(req, cookie_name(req));
  if (id.empty()) return std::nullopt;
  MutexLock lock(m_mutex);
  auto it = m_sessions.find(id);
  if (it == m_sessions.end()) return std::nullopt;
  if (it->second.expires_ms <= now_ms()) {
    m_sessions.erase(it);
    return std::nullopt;
  }
  return ConsolePrincipal{it->second.name, it->second.role, true, it->second.csrf};
}

std::optional<ConsolePrincipal> Console::require(const httplib::Request& req, httplib::Response& res, bool write) {
  auto who = principal(req);
  if (!who && req.get_header_value("Authorization").rfind("Bearer ", 0) == 0 && !bearer_failure_allowed(req.remote_addr)) {
    res.set_header("Retry-After", "1");
    console_error(res, 429, "too many wrong tokens from this address; try again in a second");
    return std::nullopt;
  }
  if (!who) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"h2r console\"");
    console_error(res, 401, "log in: open the URL `h2rd console` prints, or send Authorization: Bearer TOKEN");
    return std::nullopt;
  }
  if (write && who->cookie) {
    const std::string header = req.get_header_value("X-CSRF-Token");
    if (!same_secret(header, who->csrf)) {
      console_error(res, 403, "missing or wrong X-CSRF-Token header (reload the page)");
      return std::nullopt;
    }
  }
  if (write && who->role != ConsoleRole::reviewer) {
    console_error(res, 403, "the token '" + who->name + "' is a viewer: only a reviewer may approve, reject, retry, provision, look for drift or test a connection");
    return std::nullopt;
  }
  return who;
}

void Console::install(httplib::Server& server) {
  server.set_payload_max_length(m_limits.max_body_bytes);
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!is_console_path(req.path)) return httplib::Server::HandlerResponse::Unhandled;
    return screen(req, res) ? httplib::Server::HandlerResponse::Unhandled : httplib::Server::HandlerResponse::Handled;
  });
  install_session_routes(server);
  install_read_routes(server);
  install_action_routes(server);
  install_engine_routes(server);
  install_asset_routes(server);
}

void Console::install_session_routes(httplib::Server& server) {
  server.Post("/api/v1/session", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("token") || !body["token"].is_string() || body.size() != 1) {
      console_error(res, 400, "the body must be {\"token\": \"...\"}");
      return;
    }
    const std::string value = body["token"].get<std::string>();
    refresh_tokens();
    MutexLock lock(m_mutex);
    const ConsoleToken* found = nullptr;
    for (const auto& t : m_tokens)
      if (same_secret(t.value, value)) found = &t;
    if (!found) {
      if (!take(m_login_bucket, m_limits.login_failure_rate, m_limits.login_failure_burst)) {
        res.set_header("Retry-After", "1");
        console_error(res, 429, "too many failed logins; try again in a second");
        return;
      }
      console_error(res, 401, "this token is not in the console's token file");
      return;
    }
    auto id = new_console_secret();
    auto csrf = new_console_secret();
    if (!id || !csrf) {
      console_error(res, 500, "no random bytes for a session");
      return;
    }
    const long long now = now_ms();
    std::erase_if(m_sessions, [&](const auto& s) { return s.second.expires_ms <= now; });
    while (m_sessions.size() >= m_limits.max_sessions) {
      auto oldest = std::min_element(m_sessions.begin(), m_sessions.end(), [](const auto& a, const auto& b) {
        return a.second.expires_ms < b.second.expires_ms;
      });
      m_sessions.erase(oldest);
    }
    const long long ttl_s = m_config.console.session_ttl.count() / 1000;
    m_sessions[*id] = Session{found->name, found->role, *csrf, found->value, now + ttl_s * 1000};
    res.set_header("Set-Cookie", cookie_name(req) + "=" + *id + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                     std::to_string(ttl_s));
    console_json(res, {{"name", found->name}, {"role", to_string(found->role)}, {"csrf", *csrf}});
  });
  server.Get("/api/v1/session", [this](const httplib::Request& req, httplib::Response& res) {
    auto who = require(req, res, false);
    if (!who) return;
    // No CSRF token here: the page keeps the one its login returned. A cookie alone (another service
    // on this host receives it: cookies are not isolated by port) must not be enough to obtain it.
    console_json(res, {{"name", who->name}, {"role", to_string(who->role)}, {"timezone", m_config.timezone}});
  });
  server.Delete("/api/v1/session", [this](const httplib::Request& req, httplib::Response& res) {
    auto who = principal(req);
    if (!who || !who->cookie) {
      console_error(res, 401, "no session to end");
      return;
    }
    if (!same_secret(req.get_header_value("X-CSRF-Token"), who->csrf)) {
      console_error(res, 403, "missing or wrong X-CSRF-Token header (reload the page)");
      return;
    }
    MutexLock lock(m_mutex);
    m_sessions.erase(cookie_value(req, cookie_name(req)));
    res.set_header("Set-Cookie", cookie_name(req) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    console_json(res, {{"ended", true}});
  });
}

} // namespace h2r
