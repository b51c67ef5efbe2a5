// SimProcess: a zoom-sim child on an ephemeral 127.0.0.1 port, for one test.
#pragma once

#include "core/secret.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace h2r::test {

// How long zoom-sim may take to print its "listening" line before the test fails.
inline constexpr std::chrono::milliseconds k_sim_start_timeout{10'000};

class SimProcess {
public:
  // Starts zoom_sim_path() with `--port 0`, the ids given here, a random client secret passed
  // through --client-secret-file, then `extra_args` (fault flags such as "--rate-limit", "5"; not
  // the id or secret flags). Throws std::runtime_error, with the sim's stderr, when it does not
  // announce its port within k_sim_start_timeout.
  explicit SimProcess(std::vector<std::string> extra_args = {}, std::string account_id = "acc-test",
                      std::string client_id = "cid-test");
  // SIGTERM, then SIGKILL after a bounded wait; reaps.
  ~SimProcess();
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  int port() const { return m_port; }
  std::string base_url() const;  // "http://127.0.0.1:PORT"
  std::string oauth_url() const; // base_url() + "/oauth/token"
  std::string api_url() const;   // base_url() + "/scim2"
  const std::string& account_id() const { return m_account_id; }
  const std::string& client_id() const { return m_client_id; }
  const Secret& secret() const { return m_secret; }
  ChildProcess& process() { return *m_child; }

  // A fresh access token from POST /oauth/token with the right credentials.
  std::string fetch_token() const;

  // The /_sim test API. Each throws std::runtime_error naming the call on an unexpected status.
  nlohmann::json users() const;                  // GET /_sim/users: every user, full
  nlohmann::json stats() const;                  // GET /_sim/stats
  // GET /_sim/requests: {"requests": [{seq, method, path, status, userName (POST /Users)}], "dropped"}
  nlohmann::json requests() const;
  nlohmann::json seed_user(const nlohmann::json& user) const;  // POST /_sim/users → the user with its id
  nlohmann::json patch_user(const std::string& id, const nlohmann::json& changes) const; // merge patch
  void delete_user(const std::string& id) const;
  nlohmann::json seed_group(const std::string& display_name) const; // POST /_sim/groups
  nlohmann::json groups() const;
  nlohmann::json configure(const nlohmann::json& settings) const; // POST /_sim/config → settings now
  void invalidate_tokens() const;
  void reset() const;                            // POST /_sim/reset: no users, zero stats

private:
  TempDir m_dir;
  std::string m_account_id;
  std::string m_client_id;
  Secret m_secret;
  std::unique_ptr<ChildProcess> m_child;
  int m_port = 0;
};

// Percent-encodes every byte except RFC 3986 unreserved characters (for ids in paths, filters).
std::string url_encode(std::string_view text);

// zoom-sim's daily limit resets at midnight UTC (its Retry-After names that time). A test of the limit
// calls this first: when midnight is less than 5 minutes away (a sanitizer build's slowest test of it
// takes a minute), it sleeps until just past it, so the test never straddles the reset.
void wait_clear_of_midnight_utc();

} // namespace h2r::test
