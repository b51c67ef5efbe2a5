// Faults: the misbehaviour zoom-sim can be told to show — rate limits, daily caps, 5xx answers,
// lost creates, latency, short-lived or single tokens, a missing scope. Thread-safe.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>

namespace zoom_sim {

enum class RetryAfterFormat { iso, seconds, http_date, none };

// Every setting here can be given on the command line (--rate-limit …) and changed at runtime
// through POST /_sim/config with the same names in snake_case ("rate_limit") or kebab-case.
struct FaultConfig {
  double rate_limit = 0;        // SCIM requests/second for the account (burst = the same); 0 = unlimited
  int64_t daily_limit = 0;      // SCIM requests per UTC day; 0 = unlimited
  double fail_rate = 0;         // share (0..1) of SCIM calls answered 500/502/503 without effect
  double lost_create_rate = 0;  // share (0..1) of creates applied but answered 502
  int64_t latency_ms = 0;       // added before every Zoom-API answer
  int64_t token_lifetime_s = 3600;
  bool single_token = false;    // a new token invalidates the account's previous ones
  bool missing_scope = false;   // every SCIM call answers 401 code 4711
  // A create is not applied and is answered 201 with another user that exists (the oldest one), as
  // a confused server would; with no user yet it is applied as usual.
  bool create_answers_other = false;
  // The next N group-member removals (PATCH /Groups/{id} with a remove operation) are answered 503
  // without effect, one each, then removals work again: a partial failure of a department move.
  int64_t fail_group_removes = 0;
  RetryAfterFormat retry_after_format = RetryAfterFormat::iso;
};

nlohmann::json to_json(const FaultConfig& config);

// Why a SCIM call was refused with 429, and until when.
struct Throttle {
  bool daily = false;
  int64_t limit = 0;
  std::chrono::system_clock::time_point retry_at;
};

class Faults {
public:
  Faults(FaultConfig config, uint64_t seed);

  FaultConfig config() const;
  // Applies the settings present in `changes` (plus "seed" to reseed the PRNG). On a bad name or
  // value nothing changes and the error names the field.
  std::optional<std::string> configure(const nlohmann::json& changes);

  // Admits one SCIM call against the daily cap and the token bucket, or says why not.
  std::optional<Throttle> admit();
  // The status of an injected failure (500, 502 or 503), drawn with probability fail_rate.
  std::optional<int> injected_failure();
  bool create_answers_other() const;
  // True (and one fewer left) while fail_group_removes is above 0.
  bool fail_group_remove();
  // True with probability lost_create_rate.
  bool lose_create();
  // Refills the bucket and forgets the day's count.
  void reset();

private:
  bool draw(double probability);

  mutable std::mutex m_mutex;
  FaultConfig m_config;
  std::mt19937_64 m_rng;
  double m_bucket = 0;
  std::chrono::steady_clock::time_point m_bucket_time;
  int64_t m_day = -1;       // days since the epoch (UTC) that m_day_count counts
  int64_t m_day_count = 0;
};

// Sets Zoom's 429 headers (X-RateLimit-*, Retry-After in the configured format) for `throttle`.
void set_throttle_headers(httplib::Response& res, const Throttle& throttle, RetryAfterFormat format,
                          const char* category);

} // namespace zoom_sim
