// Config: h2rd.yaml as one struct with documented defaults (docs/man/h2rd.yaml.5).
#pragma once

#include "core/database_cache.hpp"
#include "core/diagnostic.hpp"
#include "core/expected.hpp"
#include "core/spreadsheet_dates.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace h2r {

// The circuit breaker of each Zoom connection (config key `breaker`, lib/engine/circuit_breaker.hpp):
// it opens when at least `min_calls` of the last `window` calls were made and `failure_ratio` of them
// failed transiently; it stays open for `cooldown`, doubled after each failed probe up to
// `max_cooldown`, and back to `cooldown` after a success.
struct BreakerConfig {
  int window = 20;                                 // calls remembered: 2..1000
  double failure_ratio = 0.5;                      // 0.05..1
  int min_calls = 10;                              // 1..window
  std::chrono::milliseconds cooldown{5'000};       // 100ms..1h
  std::chrono::milliseconds max_cooldown{300'000}; // cooldown..24h
};

// The admin console served on `listen` (config key `console`, lib/console/console_*.hpp).
struct ConsoleConfig {
  bool enabled = true;                              // console.enabled: serve /ui/ and /api/ on `listen`
  std::string tokens;                               // console.tokens: the token file; default <database>.console-tokens
  std::chrono::milliseconds session_ttl{8 * 3600'000}; // console.session_ttl: 1m..7d
};

// The most scheduler.max_connection_workers may say.
inline constexpr int k_max_connection_workers = 1024;
// The range of scheduler.claim_lease.
inline constexpr std::chrono::milliseconds k_min_claim_lease{10'000};
inline constexpr std::chrono::milliseconds k_max_claim_lease{24 * 3600'000};

struct Config {
  std::string path;                 // the config file itself (absolute)
  // Paths below are absolute: relative ones in the file are taken relative to the file's folder.
  // database: a SQLite file (default: h2r.db beside the config), or a PostgreSQL URL
  // (postgresql://user@host:5432/h2r?sslmode=verify-full; never with a password in it), given as
  // `database: URL` or `database: { url: URL, password_file: FILE }`.
  std::string database;
  std::string database_password_file; // database.password_file (absolute; mode 0600 or stricter); "" = libpq's PGPASSFILE / ~/.pgpass
  std::string inbox;                // default: inbox/ beside the config
  // inbox.date_order (ISO | MDY | DMY) and inbox.excel_serial_dates, from the map form
  // `inbox: { path: …, date_order: MDY }`; the plain `inbox: PATH` reads ISO dates only. Restart-only.
  DateReading inbox_dates;
  std::string rules;                // default: rules.yaml beside the config
  // rules.on_change: "resync" queues a resync for every linked employee a rules edit changes;
  // "manual" only logs how many and waits for `h2rd resync`.
  std::string rules_on_change = "resync";
  std::string secret_key_file;      // default: secret.key beside the config
  std::string timezone = "UTC";     // IANA name, for date-only effective dates
  std::chrono::milliseconds scheduler_interval{30'000};  // "30s", "500ms", "2m" (at most 1d)
  // scheduler.claim_lease: how long a daemon's claim on an event keeps others away without a heartbeat
  // (10s..24h; restart). Heartbeats every 5 s (claim_lease/4 when shorter) extend it; a dead daemon's claims are taken
  // over once it ran out.
  std::chrono::milliseconds claim_lease{120'000};
  int workers = 4;                  // 1..64: the least concurrency of a connection; events that call none
  int max_connection_workers = 64;  // 1..1024: the most concurrency of one connection (scheduler.max_connection_workers)
  // 1..64: the threads that run every worker's fiber (scheduler.threads; restart). Unset in the file:
  // default_threads(database).
  int threads = 8;
  std::string listen = "127.0.0.1:9464";                 // "" = no metrics/health endpoint
  bool listen_allow_remote = false; // listen_allow_remote: a non-loopback `listen` is refused without it
  std::string log_level = "info";   // trace debug info warn error critical off
  std::string log_format = "text";  // text | json
  // Extensions beyond SPEC (documented in config/h2rd.example.yaml):
  std::uint64_t max_file_bytes = 64ull << 20;  // limits.max_file_bytes ("64MiB"): larger files are rejected unread
  int max_future_days = 1095;                   // limits.max_future_days (1..36500): later effective dates reject the file
  // limits.database_cache ("16MiB", 1MiB..16GiB; restart): SQLite's memory in this process — its page
  // caches, mostly — shared by every connection the process opens. Not used with PostgreSQL.
  std::uint64_t database_cache = k_default_database_cache;
  int retention_days = 30;                      // retention.days: processed/ and rejected/ cleanup; 0 = keep forever
  int max_attempts = 12;                        // retry.max_attempts for transient failures (1..1000)
  std::chrono::milliseconds retry_base{30'000}; // retry.base: first backoff step (at most 1d)
  std::chrono::milliseconds retry_max{6 * 3600'000}; // retry.max: cap of one backoff step (>= retry.base, at most 30d)
  std::string notify_webhook;                   // notify.webhook: URL for alerts ("" = none)
  BreakerConfig breaker;                        // breaker.{window,failure_ratio,min_calls,cooldown,max_cooldown}
  ConsoleConfig console;                        // console.{enabled,tokens,session_ttl}
  // Each call to Zoom (token or SCIM) ends within zoom.call_deadline (1s..10m; restart) and reads at most
  // zoom.max_answer_bytes of answer (64KiB..1GiB; restart; token answers at most 1 MiB whatever it says).
  std::chrono::milliseconds zoom_call_deadline{30'000};
  std::uint64_t zoom_max_answer_bytes = 8ull << 20;
  // zoom.create_missing_groups (restart): a group the rules want that the connection's Zoom account
  // lacks is created (POST /Groups) instead of failing the event. `true` = every connection
  // (zoom_create_missing_groups_all), a list = the connections it names; default none.
  bool zoom_create_missing_groups_all = false;
  std::vector<std::string> zoom_create_missing_groups;
};

// Reads and validates the config file. Every problem is reported (file:line:col, sorted by place),
// unknown keys included; a missing file is one diagnostic with line 0. An empty file gives the defaults.
Expected<Config, Diagnostics> load_config(const std::string& path);

// scheduler.threads when the file does not set it. On SQLite, the CPUs this process may run on (at
// least 2, at most 8): every store call is this machine's work, one at a time, so threads beyond its
// cores only add wake-ups. On PostgreSQL, 8: a store call holds its thread for a network round trip.
int default_threads(const std::string& database);

// The config path to use: `explicit_path` when not empty, else $H2R_CONFIG, else /etc/h2r/h2rd.yaml.
std::string default_config_path(const std::string& explicit_path);

} // namespace h2r
