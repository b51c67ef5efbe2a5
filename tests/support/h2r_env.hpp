// H2rEnv: a whole h2r installation in a temp folder for end-to-end tests — config, rules, inbox,
// a real SQLite file, a zoom-sim on an ephemeral port, and a connection added through the real CLI
// (secret through stdin). Commands run the real h2rd binary.
#pragma once

#include "core/clock.hpp"
#include "support/process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace h2r::test {

// The rules of the original specification's example, connection "zoom-main": engineering (Licensed, zoomOneBizPlus),
// staff (Basic), on_no_role deprovision, and the example attribute mapping.
extern const char* const k_spec_rules;

struct H2rEnvOptions {
  std::vector<std::string> sim_args;        // fault flags for zoom-sim
  std::string rules = k_spec_rules;         // rules.yaml text
  std::string timezone = "UTC";
  std::string rules_on_change;              // rules.on_change ("" = the default, resync)
  std::string extra_config;                 // appended to h2rd.yaml (e.g. "retry: { base: 100ms }\n")
  bool add_connection = true;
  std::string rate_limit = "1000";          // the connection's --rate-limit
  std::string database = "state/h2r.db";    // h2rd.yaml's database (a PostgreSQL URL for "pg …" cases)
};

class H2rEnv {
public:
  explicit H2rEnv(H2rEnvOptions options = {});

  TempDir& dir() { return m_dir; }
  SimProcess& sim() { return *m_sim; }
  std::string config_path() const { return m_config; }
  std::string inbox() const { return (m_dir.path() / "inbox").string(); }
  // The database as the store opens it: the SQLite file, or the PostgreSQL URL given.
  std::string database() const { return m_database; }
  std::string rules_path() const { return (m_dir.path() / "rules.yaml").string(); }

  // Runs `h2rd -c CONFIG args...` with optional stdin.
  ProcessResult h2rd(const std::vector<std::string>& args, std::string_view stdin_text = {},
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(120'000)) const;
  // Same, with --json appended, parsed (throws when stdout is not JSON).
  nlohmann::json h2rd_json(const std::vector<std::string>& args) const;

  // Writes an event file into the inbox atomically (written as NAME.tmp, then renamed).
  void drop(const std::string& name, const std::string& content) const;
  // `h2rd run --once`; returns its result.
  ProcessResult run_once() const;

  // Every event (h2rd events list --json), newest first.
  nlohmann::json events() const;
  // Zoom users in the sim whose userName equals `user_name` (case-insensitive).
  std::vector<nlohmann::json> sim_users_named(const std::string& user_name) const;

private:
  TempDir m_dir;
  std::unique_ptr<SimProcess> m_sim;
  std::string m_config;
  std::string m_database;
};

// One event as JSON text: {"event_id","type","effective_date"?,"leave_type"?,"employee":{...}}.
std::string event_json(const std::string& event_id, const std::string& type, const nlohmann::json& employee,
                       const std::string& effective_date = "", const std::string& leave_type = "");
// The UTC date of `t`, as an event's effective_date ("2026-12-08").
std::string date_of(SystemTime t);
// The UTC date `days` from now. Compute it once per test: two calls may straddle midnight UTC and give
// dates a day apart.
std::string date_in_days(int days);
// A typical employee record for tests.
nlohmann::json employee(const std::string& id, const std::string& first, const std::string& last,
                        const std::string& department = "Engineering", const std::string& employment = "full_time");

} // namespace h2r::test
