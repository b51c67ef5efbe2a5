#include "config/config.hpp"
#include "config/config_lenient.hpp"

#include "yaml/yaml_reader.hpp"
#include "core/db_url.hpp"
#include "core/net.hpp"
#include "core/time.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include <sched.h>

namespace h2r {
namespace {

constexpr const char* k_default_config_path = "/etc/h2r/h2rd.yaml";
// Longest durations the config accepts: added to "now", they must stay far inside the clock's range.
constexpr std::chrono::milliseconds k_max_interval{24 * 3600'000};
constexpr std::chrono::milliseconds k_max_retry_step{30LL * 24 * 3600'000};

// The host part of a valid `listen` value ("[::1]:9464" → "[::1]").
std::string listen_host(const std::string& listen) { return listen.substr(0, listen.rfind(':')); }

// True for "host:port" (host a name, IPv4 or [IPv6]; port 0..65535).
bool is_valid_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  const std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5) return false;
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  if (std::stoi(port) > 65535) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (std::size_t i = 1; i + 1 < host.size(); ++i)
      if (!std::isxdigit(static_cast<unsigned char>(host[i])) && host[i] != ':' && host[i] != '.') return false;
    return true;
  }
  for (char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') return false;
  return true;
}

bool is_valid_webhook(const std::string& url) {
  for (std::string_view scheme : {"http://", "https://"})
    if (url.starts_with(scheme) && url.size() > scheme.size() && url.find(' ') == std::string::npos)
      return true;
  return false;
}

class ConfigLoader {
public:
  ConfigLoader(Config& config, yaml::Reader& reader, std::filesystem::path folder)
      : m_config(config), m_reader(reader), m_folder(std::move(folder)) {}

  void load(const YAML::Node& root) {
    auto top = m_reader.map(root, "the config file",
                            {"database", "inbox", "rules", "secret_key_file", "timezone", "scheduler",
                             "listen", "listen_allow_remote", "log", "limits", "retention", "retry", "notify",
                             "breaker", "console", "zoom"});
    if (!top) return;
    database(*top);
    inbox(*top);
    rules(*top);
    path(*top, "secret_key_file", m_config.secret_key_file);
    if (const auto* node = top->get("timezone")) {
      if (auto zone = m_reader.non_empty_string(*node, "timezone")) {
        if (is_valid_time_zone(*zone))
          m_config.timezone = *zone;
        else
          m_reader.error(*node, "timezone '" + *zone +
                                    "' is not a known IANA time zone (e.g. UTC, Europe/Paris, America/New_York)");
      }
    }
    if (const auto* node = top->get("listen_allow_remote"))
      if (auto allow = m_reader.boolean(*node, "listen_allow_remote")) m_config.listen_allow_remote = *allow;
    if (const auto* node = top->get("listen")) {
      if (auto listen = m_reader.string(*node, "listen")) {
        if (!listen->empty() && !is_valid_listen(*listen))
          m_reader.error(*node, "listen must be host:port (e.g. 127.0.0.1:9464) or \"\" to turn the endpoint "
                                "off, got '" + *listen + "'");
        else if (!listen->empty() && !m_config.listen_allow_remote && !is_loopback_host(listen_host(*listen)))
          m_reader.error(*node, "listen '" + *listen + "' is not a loopback address: /metrics and /healthz would "
                                "be open to the network (they have no authentication); use 127.0.0.1:PORT, or "
                                "set `listen_allow_remote: true` to expose them on purpose");
        else
          m_config.listen = *listen;
      }
    }
    scheduler(*top);
    log(*top);
    extensions(*top);
    if (const auto* node = top->get("console")) console(*node);
  }

private:
  void path(const yaml::MapView& top, std::string_view key, std::string& out) {
    const auto* node = top.get(key);
    if (!node) return;
    if (auto text = m_reader.non_empty_string(*node, key)) out = resolve(*text);
  }

  // `inbox: PATH`, or `inbox: { path: PATH, date_order: ISO|MDY|DMY, excel_serial_dates: BOOL }`.
  void inbox(const yaml::MapView& top) {
    const auto* node = top.get("inbox");
    if (!node) return;
    if (!node->IsMap()) {
      path(top, "inbox", m_config.inbox);
      return;
    }
    auto map = m_reader.map(*node, "inbox", {"path", "date_order", "excel_serial_dates"});
    if (!map) return;
    if (const auto* n = map->get("path"))
      if (auto text = m_reader.non_empty_string(*n, "inbox.path")) m_config.inbox = resolve(*text);
    if (const auto* n = map->get("date_order"))
      if (auto text = m_reader.non_empty_string(*n, "inbox.date_order")) {
        if (auto order = parse_date_order(*text))
          m_config.inbox_dates.order = *order;
        else
          m_reader.error(*n, "inbox.date_order must be MDY (3/1/2026 is March 1), DMY (1/3/2026 is March 1) or "
                             "ISO (2026-03-01 only, the default), got '" + *text + "'");
      }
    if (const auto* n = map->get("excel_serial_dates"))
      if (auto on = m_reader.boolean(*n, "inbox.excel_serial_dates")) m_config.inbox_dates.excel_serials = *on;
  }

  // `database: FILE`, `database: postgresql://…`, or `database: { url: postgresql://…, password_file: FILE }`.
  void database(const yaml::MapView& top) {
    const auto* node = top.get("database");
    if (!node) return;
    if (!node->IsMap()) {
      auto text = m_reader.non_empty_string(*node, "database");
      if (!text) return;
      if (text->find("://") == std::string::npos) {
        m_config.database = resolve(*text);
        return;
      }
      if (auto url = database_url(*node, "database", *text)) m_config.database = *url;
      return;
    }
    auto map = m_reader.map(*node, "database", {"url", "password_file"});
    if (!map) return;
    const auto* url_node = map->get("url");
    if (!url_node) {
      m_reader.error(*node, "database: a mapping needs `url: postgresql://…` (a SQLite file is given as `database: FILE`)");
      return;
    }
    if (auto text = m_reader.non_empty_string(*url_node, "database.url"))
      if (auto url = database_url(*url_node, "database.url", *text)) m_config.database = *url;
    if (const auto* n = map->get("password_file"))
      if (auto text = m_reader.non_empty_string(*n, "database.password_file")) {
        const std::string file = resolve(*text);
        if (auto problem = password_file_problem(file))
          m_reader.error(*n, "database.password_file " + file + " " + *problem);
        else
          m_config.database_password_file = file;
      }
  }

  // A PostgreSQL URL without a password, or nullopt with the problem reported at `node`.
  std::optional<std::string> database_url(const YAML::Node& node, std::string_view key, const std::string& text) {
    constexpr std::size_t k_max_url = 4096;
    if (!is_database_url(text)) {
      m_reader.error(node, std::string(key) + " must be a file path or a PostgreSQL URL (postgresql://… or "
                                              "postgres://…), got '" + redact_database(text) + "'");
      return std::nullopt;
    }
    if (text.size() > k_max_url) {
      m_reader.error(node, std::string(key) + " is longer than " + std::to_string(k_max_url) + " characters");
      return std::nullopt;
    }
    if (auto part = url_password_part(text); !part.empty()) {
      m_reader.error(node, std::string(key) + " holds a password (" + part + "); passwords never go in the "
                           "config: put it in a file named by database.password_file (chmod 600), or in "
                           "~/.pgpass / $PGPASSFILE");
      return std::nullopt;
    }
    return text;
  }

  // `rules: FILE`, or `rules: { path: FILE, on_change: resync|manual }`.
  void rules(const yaml::MapView& top) {
    const auto* node = top.get("rules");
    if (!node || !node->IsMap()) return path(top, "rules", m_config.rules);
    auto map = m_reader.map(*node, "rules", {"path", "on_change"});
    if (!map) return;
    if (const auto* n = map->get("path"))
      if (auto text = m_reader.non_empty_string(*n, "rules.path")) m_config.rules = resolve(*text);
    if (const auto* n = map->get("on_change"))
      if (auto v = m_reader.choice(*n, "rules.on_change", {"resync", "manual"})) m_config.rules_on_change = *v;
  }

  std::string resolve(const std::string& text) const {
    std::filesystem::path p(text);
    if (p.is_relative()) p = m_folder / p;
    return p.lexically_normal().string();
  }

  void scheduler(const yaml::MapView& top) {
    const auto* node = top.get("scheduler");
    if (!node) return;
    auto map = m_reader.map(*node, "scheduler", {"interval", "workers", "max_connection_workers", "threads", "claim_lease"});
    if (!map) return;
    if (const auto* n = map->get("interval")) {
      if (auto d = m_reader.duration(*n, "scheduler.interval")) {
        if (d->count() > 0 && *d <= k_max_interval)
          m_config.scheduler_interval = *d;
        else
          m_reader.error(*n, "scheduler.interval must be longer than 0 and at most 1d (e.g. 30s)");
      }
    }
    if (const auto* n = map->get("claim_lease")) {
      if (auto d = m_reader.duration(*n, "scheduler.claim_lease")) {
        if (*d >= k_min_claim_lease && *d <= k_max_claim_lease)
          m_config.claim_lease = *d;
        else
          m_reader.error(*n, "scheduler.claim_lease must be at least 10s and at most 24h (e.g. 2m)");
      }
    }
    if (const auto* n = map->get("workers"))
      if (auto w = m_reader.integer(*n, "scheduler.workers", 1, 64)) m_config.workers = static_cast<int>(*w);
    if (const auto* n = map->get("max_connection_workers"))
      if (auto w = m_reader.integer(*n, "scheduler.max_connection_workers", 1, k_max_connection_workers))
        m_config.max_connection_workers = static_cast<int>(*w);
    if (const auto* n = map->get("threads"))
      if (auto t = m_reader.integer(*n, "scheduler.threads", 1, 64)) m_config.threads = static_cast<int>(*t);
  }

  void log(const yaml::MapView& top) {
    const auto* node = top.get("log");
    if (!node) return;
    auto map = m_reader.map(*node, "log", {"level", "format"});
    if (!map) return;
    if (const auto* n = map->get("level"))
      if (auto v = m_reader.choice(*n, "log.level", {"trace", "debug", "info", "warning", "warn", "error", "critical", "off"}))
        m_config.log_level = *v;
    if (const auto* n = map->get("format"))
      if (auto v = m_reader.choice(*n, "log.format", {"text", "json"})) m_config.log_format = *v;
  }

  void extensions(const yaml::MapView& top) {
    if (const auto* node = top.get("limits")) {
      if (auto map = m_reader.map(*node, "limits", {"max_file_bytes", "max_future_days", "database_cache"})) {
        if (const auto* n = map->get("max_future_days"))
          if (auto d = m_reader.integer(*n, "limits.max_future_days", 1, 36500))
            m_config.max_future_days = static_cast<int>(*d);
        if (const auto* n = map->get("max_file_bytes")) {
          if (auto s = m_reader.size(*n, "limits.max_file_bytes")) {
            if (*s > 0)
              m_config.max_file_bytes = *s;
            else
              m_reader.error(*n, "limits.max_file_bytes must be more than 0 (e.g. 64MiB)");
          }
        }
        if (const auto* n = map->get("database_cache")) {
          if (auto s = m_reader.size(*n, "limits.database_cache")) {
            if (*s >= k_min_database_cache && *s <= k_max_database_cache)
              m_config.database_cache = *s;
            else
              m_reader.error(*n, "limits.database_cache must be from 1MiB to 16GiB (e.g. 16MiB)");
          }
        }
      }
    }
    if (const auto* node = top.get("retention")) {
      if (auto map = m_reader.map(*node, "retention", {"days"}))
        if (const auto* n = map->get("days"))
          if (auto d = m_reader.integer(*n, "retention.days", 0, 36500)) m_config.retention_days = static_cast<int>(*d);
    }
    if (const auto* node = top.get("retry")) retry(*node);
    if (const auto* node = top.get("breaker")) breaker(*node);
    if (const auto* node = top.get("zoom")) zoom(*node);
    if (const auto* node = top.get("notify")) {
      if (auto map = m_reader.map(*node, "notify", {"webhook"})) {
        if (const auto* n = map->get("webhook")) {
          if (auto url = m_reader.string(*n, "notify.webhook")) {
            if (url->empty() || is_valid_webhook(*url))
              m_config.notify_webhook = *url;
            else
              m_reader.error(*n, "notify.webhook must be an http:// or https:// URL or \"\", got '" + *url + "'");
          }
        }
      }
    }
  }

  void console(const YAML::Node& node) {
    auto map = m_reader.map(node, "console", {"enabled", "tokens", "session_ttl"});
    if (!map) return;
    if (const auto* n = map->get("enabled"))
      if (auto v = m_reader.boolean(*n, "console.enabled")) m_config.console.enabled = *v;
    if (const auto* n = map->get("tokens"))
      if (auto text = m_reader.non_empty_string(*n, "console.tokens")) m_config.console.tokens = resolve(*text);
    if (const auto* n = map->get("session_ttl")) {
      if (auto d = m_reader.duration(*n, "console.session_ttl")) {
        if (*d >= std::chrono::minutes(1) && *d <= std::chrono::hours(7 * 24))
          m_config.console.session_ttl = *d;
        else
          m_reader.error(*n, "console.session_ttl must be from 1m to 7d (e.g. 8h)");
      }
    }
  }

  void zoom(const YAML::Node& node) {
    auto map = m_reader.map(node, "zoom", {"call_deadline", "max_answer_bytes", "create_missing_groups"});
    if (!map) return;
    if (const auto* n = map->get("call_deadline")) {
      if (auto d = m_reader.duration(*n, "zoom.call_deadline")) {
        if (*d >= std::chrono::seconds(1) && *d <= std::chrono::minutes(10))
          m_config.zoom_call_deadline = *d;
        else
          m_reader.error(*n, "zoom.call_deadline must be from 1s to 10m (e.g. 30s)");
      }
    }
    if (const auto* n = map->get("max_answer_bytes")) {
      if (auto size = m_reader.size(*n, "zoom.max_answer_bytes")) {
        if (*size >= (64u << 10) && *size <= (1ull << 30))
          m_config.zoom_max_answer_bytes = *size;
        else
          m_reader.error(*n, "zoom.max_answer_bytes must be from 64KiB to 1GiB (e.g. 8MiB)");
      }
    }
    if (const auto* n = map->get("create_missing_groups")) create_missing_groups(*n);
  }

  // true / false (every connection or none), or a list of connection names.
  void create_missing_groups(const YAML::Node& node) {
    const std::string what = "zoom.create_missing_groups";
    const bool flag = node.IsScalar() && (node.Scalar() == "true" || node.Scalar() == "false");
    if (flag) {
      if (auto all = m_reader.boolean(node, what)) m_config.zoom_create_missing_groups_all = *all;
      return;
    }
    if (!node.IsSequence()) {
      m_reader.error(node, what + " must be true, false or a list of connection names, got " + yaml::describe(node));
      return;
    }
    auto items = m_reader.list(node, what);
    if (!items) return;
    for (std::size_t i = 0; i < items->size(); ++i)
      if (auto name = m_reader.non_empty_string((*items)[i], what + "[" + std::to_string(i) + "]"))
        m_config.zoom_create_missing_groups.push_back(*name);
  }

  void retry(const YAML::Node& node) {
    auto map = m_reader.map(node, "retry", {"max_attempts", "base", "max"});
    if (!map) return;
    if (const auto* n = map->get("max_attempts"))
      if (auto v = m_reader.integer(*n, "retry.max_attempts", 1, 1000)) m_config.max_attempts = static_cast<int>(*v);
    const YAML::Node* base_node = map->get("base");
    if (base_node)
      if (auto d = m_reader.duration(*base_node, "retry.base")) {
        if (d->count() > 0 && *d <= k_max_interval)
          m_config.retry_base = *d;
        else
          m_reader.error(*base_node, "retry.base must be longer than 0 and at most 1d (e.g. 30s)");
      }
    if (const auto* n = map->get("max"))
      if (auto d = m_reader.duration(*n, "retry.max")) {
        if (*d < m_config.retry_base)
          m_reader.error(*n, "retry.max must be at least retry.base");
        else if (*d > k_max_retry_step)
          m_reader.error(*n, "retry.max must be at most 30d");
        else
          m_config.retry_max = *d;
      }
  }

  void breaker(const YAML::Node& node) {
    auto map = m_reader.map(node, "breaker", {"window", "failure_ratio", "min_calls", "cooldown", "max_cooldown"});
    if (!map) return;
    BreakerConfig& b = m_config.breaker;
    if (const auto* n = map->get("window"))
      if (auto v = m_reader.integer(*n, "breaker.window", 2, 1000)) b.window = static_cast<int>(*v);
    if (const auto* n = map->get("failure_ratio")) {
      if (auto text = m_reader.string(*n, "breaker.failure_ratio")) {
        double ratio = 0;
        auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), ratio);
        if (ec == std::errc() && end == text->data() + text->size() && ratio >= 0.05 && ratio <= 1.0)
          b.failure_ratio = ratio;
        else
          m_reader.error(*n, "breaker.failure_ratio must be a number from 0.05 to 1 (e.g. 0.5), got '" + *text + "'");
      }
    }
    if (const auto* n = map->get("min_calls")) {
      if (auto v = m_reader.integer(*n, "breaker.min_calls", 1, 1000)) {
        if (*v <= b.window)
          b.min_calls = static_cast<int>(*v);
        else
          m_reader.error(*n, "breaker.min_calls must be at most breaker.window (" + std::to_string(b.window) + ")");
      }
    } else {
      b.min_calls = std::min(b.min_calls, b.window);
    }
    if (const auto* n = map->get("cooldown"))
      if (auto d = m_reader.duration(*n, "breaker.cooldown")) {
        if (*d >= std::chrono::milliseconds(100) && *d <= std::chrono::hours(1))
          b.cooldown = *d;
        else
          m_reader.error(*n, "breaker.cooldown must be from 100ms to 1h (e.g. 5s)");
      }
    if (const auto* n = map->get("max_cooldown")) {
      if (auto d = m_reader.duration(*n, "breaker.max_cooldown")) {
        if (*d >= b.cooldown && *d <= std::chrono::hours(24))
          b.max_cooldown = *d;
        else
          m_reader.error(*n, "breaker.max_cooldown must be from breaker.cooldown to 24h (e.g. 5m)");
      }
    } else {
      b.max_cooldown = std::max(b.max_cooldown, b.cooldown);
    }
  }

  Config& m_config;
  yaml::Reader& m_reader;
  std::filesystem::path m_folder;
};

} // namespace

namespace {

// The file read into a Config: valid keys taken, invalid ones left at their defaults and reported in
// `diagnostics`. nullopt when the file cannot be read or is not YAML at all.
std::optional<Config> read_config(const std::string& path, Diagnostics& diagnostics) {
  std::error_code ec;
  std::filesystem::path file = std::filesystem::absolute(path, ec);
  if (ec) file = path;
  file = file.lexically_normal();

  std::string text;  // at most the size limit + 1 byte: Reader::parse refuses a file over it
  if (!yaml::read_file_prefix(file.string(), yaml::Limits{}.max_bytes, text)) {
    const int err = errno;
    diagnostics.push_back(Diagnostic{path, 0, 0,
                                     std::string("cannot read the config file: ") + std::strerror(err) +
                                         " (give another one with -c PATH or $H2R_CONFIG)",
                                     false});
    return std::nullopt;
  }

  Config config;
  config.path = file.string();
  const std::filesystem::path folder = file.parent_path();
  config.database = (folder / "h2r.db").string();
  config.inbox = (folder / "inbox").string();
  config.rules = (folder / "rules.yaml").string();
  config.secret_key_file = (folder / "secret.key").string();
  config.threads = 0;   // unset: default_threads of the database the file names, below

  yaml::Reader reader(path, diagnostics);
  bool parsed = false;
  try {
    if (auto root = reader.parse(text)) {
      parsed = true;
      if (root->IsDefined() && !root->IsNull()) ConfigLoader(config, reader, folder).load(*root);
    }
  } catch (const std::exception& e) {  // yaml-cpp should not throw past the reader; never let it escape
    parsed = false;
    reader.error_at(0, 0, std::string("cannot read the config file: ") + e.what());
  }
  if (config.threads == 0) config.threads = default_threads(config.database);
  // Beside a SQLite file; with PostgreSQL, beside the config (each daemon has its own).
  if (config.console.tokens.empty())
    config.console.tokens = is_database_url(config.database) ? (folder / "h2r.console-tokens").string()
                                                              : config.database + ".console-tokens";
  yaml::sort_by_place(diagnostics);
  if (!parsed) return std::nullopt;
  return config;
}

} // namespace

Expected<Config, Diagnostics> load_config(const std::string& path) {
  Diagnostics diagnostics;
  auto config = read_config(path, diagnostics);
  if (!config || has_errors(diagnostics)) return unexpected(std::move(diagnostics));
  return std::move(*config);
}

std::optional<Config> load_config_lenient(const std::string& path, Diagnostics& problems) {
  return read_config(path, problems);
}

int default_threads(const std::string& database) {
  if (is_database_url(database)) return 8;
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  const int allowed = ::sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus)
                                                                      : static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(allowed, 2, 8);
}

std::string default_config_path(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = std::getenv("H2R_CONFIG"); env && *env) return env;
  return k_default_config_path;
}

} // namespace h2r
