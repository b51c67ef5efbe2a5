#include "sim_state.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace zoom_sim {

namespace {

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : raw) {
    out.push_back(k_hex[b >> 4]);
    out.push_back(k_hex[b & 0x0F]);
  }
  return out;
}

} // namespace

std::string TokenStore::issue(std::chrono::seconds lifetime, bool single) {
  constexpr size_t k_token_bytes = 32;
  std::string token = "sim." + random_hex(k_token_bytes);
  std::lock_guard lock(m_mutex);
  if (single) {
    m_expiry.clear();
  }
  m_expiry[token] = std::chrono::steady_clock::now() + lifetime;
  return token;
}

TokenCheck TokenStore::check(const std::string& token) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_expiry.find(token);
  if (it == m_expiry.end()) {
    return TokenCheck::unknown;
  }
  return std::chrono::steady_clock::now() < it->second ? TokenCheck::valid : TokenCheck::expired;
}

void TokenStore::invalidate_all() {
  std::lock_guard lock(m_mutex);
  m_expiry.clear();
}

void Stats::count_request(const std::string& route) {
  std::lock_guard lock(m_mutex);
  ++m_by_route[route];
}

void Stats::count_status(int status) {
  std::lock_guard lock(m_mutex);
  ++m_by_status[std::to_string(status)];
}

void Stats::count_token_issued() {
  std::lock_guard lock(m_mutex);
  ++m_tokens_issued;
}

void Stats::count_rate_limited() {
  std::lock_guard lock(m_mutex);
  ++m_rate_limited;
}

void Stats::count_create_applied() {
  std::lock_guard lock(m_mutex);
  ++m_creates_applied;
}

nlohmann::json Stats::to_json() const {
  std::lock_guard lock(m_mutex);
  return {{"requests", m_by_route},
          {"status", m_by_status},
          {"tokens_issued", m_tokens_issued},
          {"rate_limited", m_rate_limited},
          {"creates_applied", m_creates_applied}};
}

void Stats::reset() {
  std::lock_guard lock(m_mutex);
  m_by_route.clear();
  m_by_status.clear();
  m_tokens_issued = 0;
  m_rate_limited = 0;
  m_creates_applied = 0;
}

void RequestLog::add(const std::string& method, const std::string& path, int status, const std::string& user_name) {
  std::lock_guard lock(m_mutex);
  m_entries.push_back({m_next_seq++, method, path, status, user_name});
  if (m_entries.size() > k_max_entries) {
    m_entries.pop_front();
    ++m_dropped;
  }
}

nlohmann::json RequestLog::to_json() const {
  std::lock_guard lock(m_mutex);
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : m_entries) {
    entries.push_back({{"seq", e.seq}, {"method", e.method}, {"path", e.path}, {"status", e.status},
                       {"userName", e.user_name}});
  }
  return {{"requests", std::move(entries)}, {"dropped", m_dropped}};
}

void RequestLog::reset() {
  std::lock_guard lock(m_mutex);
  m_entries.clear();
  m_dropped = 0;
}

} // namespace zoom_sim
