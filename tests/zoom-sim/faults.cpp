#include "faults.hpp"

#include "http_util.hpp"

#include <algorithm>
#include <cmath>

namespace zoom_sim {

namespace {

using nlohmann::json;
using std::chrono::system_clock;

constexpr const char* k_formats[] = {"iso", "seconds", "http-date", "none"};

std::optional<RetryAfterFormat> parse_format(const std::string& text) {
  for (size_t i = 0; i < std::size(k_formats); ++i) {
    if (text == k_formats[i]) {
      return static_cast<RetryAfterFormat>(i);
    }
  }
  return std::nullopt;
}

std::string normalized(std::string key) {
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

// Reads a number field within [low, high]; an error text names the field otherwise.
template <class T>
std::optional<std::string> read_number(const json& value, const std::string& key, T low, T high, T& out) {
  if (!value.is_number() || value.get<double>() < static_cast<double>(low) ||
      value.get<double>() > static_cast<double>(high)) {
    return key + ": expected a number in [" + std::to_string(low) + ", " + std::to_string(high) + "]";
  }
  out = value.get<T>();
  return std::nullopt;
}

int64_t day_of(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::days>(t.time_since_epoch()).count();
}

} // namespace

json to_json(const FaultConfig& config) {
  return {{"rate_limit", config.rate_limit},
          {"daily_limit", config.daily_limit},
          {"fail_rate", config.fail_rate},
          {"lost_create_rate", config.lost_create_rate},
          {"latency_ms", config.latency_ms},
          {"token_lifetime", config.token_lifetime_s},
          {"single_token", config.single_token},
          {"missing_scope", config.missing_scope},
          {"create_answers_other", config.create_answers_other},
          {"fail_group_removes", config.fail_group_removes},
          {"retry_after_format", k_formats[static_cast<size_t>(config.retry_after_format)]}};
}

Faults::Faults(FaultConfig config, uint64_t seed)
    : m_config(config), m_rng(seed), m_bucket(config.rate_limit), m_bucket_time(std::chrono::steady_clock::now()) {}

FaultConfig Faults::config() const {
  std::lock_guard lock(m_mutex);
  return m_config;
}

std::optional<std::string> Faults::configure(const json& changes) {
  if (!changes.is_object()) {
    return "the configuration must be a JSON object";
  }
  std::lock_guard lock(m_mutex);
  FaultConfig next = m_config;
  std::optional<uint64_t> seed;
  for (const auto& [raw_key, value] : changes.items()) {
    const std::string key = normalized(raw_key);
    std::optional<std::string> error;
    if (key == "rate_limit") {
      error = read_number(value, key, 0.0, 1e6, next.rate_limit);
    } else if (key == "daily_limit") {
      error = read_number<int64_t>(value, key, 0, 1'000'000'000, next.daily_limit);
    } else if (key == "fail_rate") {
      error = read_number(value, key, 0.0, 1.0, next.fail_rate);
    } else if (key == "lost_create_rate") {
      error = read_number(value, key, 0.0, 1.0, next.lost_create_rate);
    } else if (key == "latency_ms") {
      error = read_number<int64_t>(value, key, 0, 600'000, next.latency_ms);
    } else if (key == "token_lifetime") {
      error = read_number<int64_t>(value, key, 1, 1'000'000, next.token_lifetime_s);
    } else if (key == "fail_group_removes") {
      error = read_number<int64_t>(value, key, 0, 1'000'000, next.fail_group_removes);
    } else if (key == "seed") {
      uint64_t s = 0;
      error = read_number<uint64_t>(value, key, 0, UINT64_MAX, s);
      seed = s;
    } else if (key == "single_token" || key == "missing_scope" || key == "create_answers_other") {
      if (!value.is_boolean()) {
        error = key + ": expected true or false";
      } else {
        (key == "single_token" ? next.single_token
         : key == "missing_scope" ? next.missing_scope
                                  : next.create_answers_other) = value.get<bool>();
      }
    } else if (key == "retry_after_format") {
      const auto format = value.is_string() ? parse_format(value.get<std::string>()) : std::nullopt;
      if (!format) {
        error = key + ": expected one of iso, seconds, http-date, none";
      } else {
        next.retry_after_format = *format;
      }
    } else {
      error = raw_key + ": unknown setting";
    }
    if (error) {
      return error;
    }
  }
  if (next.rate_limit != m_config.rate_limit) {
    m_bucket = next.rate_limit;
    m_bucket_time = std::chrono::steady_clock::now();
  }
  m_config = next;
  if (seed) {
    m_rng.seed(*seed);
  }
  return std::nullopt;
}

std::optional<Throttle> Faults::admit() {
  std::lock_guard lock(m_mutex);
  const auto now = system_clock::now();
  const int64_t today = day_of(now);
  if (today != m_day) {
    m_day = today;
    m_day_count = 0;
  }
  if (m_config.daily_limit > 0 && m_day_count >= m_config.daily_limit) {
    return Throttle{true, m_config.daily_limit, system_clock::time_point(std::chrono::days(today + 1))};
  }
  if (m_config.rate_limit > 0) {
    const auto steady_now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(steady_now - m_bucket_time).count();
    m_bucket = std::min(m_config.rate_limit, m_bucket + elapsed * m_config.rate_limit);
    m_bucket_time = steady_now;
    if (m_bucket < 1.0) {
      // Whole seconds, rounded up, like Zoom's second-precision dates.
      const double wait_s = (1.0 - m_bucket) / m_config.rate_limit;
      const auto next_second = std::chrono::ceil<std::chrono::seconds>(
          now + std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(wait_s)));
      return Throttle{false, static_cast<int64_t>(std::ceil(m_config.rate_limit)), next_second};
    }
    m_bucket -= 1.0;
  }
  ++m_day_count;
  return std::nullopt;
}

bool Faults::draw(double probability) {
  return probability > 0 && std::uniform_real_distribution<double>(0.0, 1.0)(m_rng) < probability;
}

std::optional<int> Faults::injected_failure() {
  std::lock_guard lock(m_mutex);
  if (!draw(m_config.fail_rate)) {
    return std::nullopt;
  }
  constexpr int k_statuses[] = {500, 502, 503};
  return k_statuses[std::uniform_int_distribution<size_t>(0, 2)(m_rng)];
}

bool Faults::create_answers_other() const {
  std::lock_guard lock(m_mutex);
  return m_config.create_answers_other;
}

bool Faults::fail_group_remove() {
  std::lock_guard lock(m_mutex);
  if (m_config.fail_group_removes <= 0) {
    return false;
  }
  --m_config.fail_group_removes;
  return true;
}

bool Faults::lose_create() {
  std::lock_guard lock(m_mutex);
  return draw(m_config.lost_create_rate);
}

void Faults::reset() {
  std::lock_guard lock(m_mutex);
  m_bucket = m_config.rate_limit;
  m_bucket_time = std::chrono::steady_clock::now();
  m_day_count = 0;
}

void set_throttle_headers(httplib::Response& res, const Throttle& throttle, RetryAfterFormat format,
                          const char* category) {
  res.set_header("X-RateLimit-Category", category);
  res.set_header("X-RateLimit-Type", throttle.daily ? "Daily-limit" : "QPS");
  res.set_header("X-RateLimit-Limit", std::to_string(throttle.limit));
  res.set_header("X-RateLimit-Remaining", "0");
  switch (format) {
  case RetryAfterFormat::iso:
    res.set_header("Retry-After", format_iso(throttle.retry_at));
    break;
  case RetryAfterFormat::http_date:
    res.set_header("Retry-After", format_http_date(throttle.retry_at));
    break;
  case RetryAfterFormat::seconds: {
    const auto wait = std::chrono::ceil<std::chrono::seconds>(throttle.retry_at - system_clock::now());
    res.set_header("Retry-After", std::to_string(std::max<int64_t>(1, wait.count())));
    break;
  }
  case RetryAfterFormat::none:
    break;
  }
}

} // namespace zoom_sim
