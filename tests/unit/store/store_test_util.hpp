// Helpers for the Store tests: temp folders, store factories, and event builders.
#pragma once

#include "store/sqlite_store.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace h2r::store_test {

// A fresh directory under $TMPDIR, removed with everything in it at scope exit.
class TempDir {
public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "h2r-store-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    m_path = templ;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  std::string file(const std::string& name) const { return (m_path / name).string(); }
  std::string path() const { return m_path.string(); }

private:
  std::filesystem::path m_path;
};

// A factory per Store implementation; the contract suite runs once per factory listed in
// H2R_STORE_IMPLEMENTATIONS. `open` may be called again on the same folder (reopen).
struct SqliteStoreFactory {
  static std::unique_ptr<Store> open(const TempDir& dir) {
    auto store = open_sqlite_store(dir.file("h2r.db"));
    if (!store) FAIL(store.error().message);
    return std::move(store).value();
  }
};

#define H2R_STORE_IMPLEMENTATIONS ::h2r::store_test::SqliteStoreFactory

inline NewEvent make_event(const std::string& event_id, const std::string& employee_id, long long effective_at_ms,
                           long long due_at_ms, EventState state = EventState::pending,
                           EventType type = EventType::update) {
  NewEvent e;
  e.event.event_id = event_id;
  e.event.type = type;
  e.event.employee_id = employee_id;
  e.event.fields = {{"employee_id", employee_id}};
  e.effective_at_ms = effective_at_ms;
  e.due_at_ms = due_at_ms;
  e.state = state;
  return e;
}

inline constexpr long long k_far_future_ms = 1LL << 50;

// Claims `event_id` as `owner` (it must be its employee's head and due at now_ms) and gives back
// every other event this claim took; returns the claim token.
inline std::string claim(Store& store, const std::string& event_id, long long now_ms = k_far_future_ms,
                         const std::string& owner = "test-owner") {
  auto claimed = store.claim_due_events(ClaimRequest{owner, now_ms, 100'000, 60'000});
  REQUIRE(claimed);
  std::string token;
  for (const auto& e : *claimed) {
    if (e.event_id == event_id) token = e.claim_token;
    else REQUIRE(store.release_claim(e.id, e.claim_token));
  }
  REQUIRE_MESSAGE(!token.empty(), "event " << event_id << " was not claimable");
  return token;
}

} // namespace h2r::store_test
