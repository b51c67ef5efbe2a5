// Helpers for the Store tests: temp folders, store factories, and event builders.
#pragma once

#include "store/pg/pg_db.hpp"
#include "store/pg/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

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
    for (auto it = m_cleanups.rbegin(); it != m_cleanups.rend(); ++it) (*it)();
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  std::string file(const std::string& name) const { return (m_path / name).string(); }
  std::string path() const { return m_path.string(); }
  // Runs `cleanup` at scope exit, before the folder is removed (last added first).
  void on_exit(std::function<void()> cleanup) const { m_cleanups.push_back(std::move(cleanup)); }

private:
  std::filesystem::path m_path;
  mutable std::vector<std::function<void()>> m_cleanups;
};

// A factory per Store implementation; the contract suite runs once per factory listed in
// H2R_STORE_IMPLEMENTATIONS. `open` may be called again on the same folder (reopen: the same
// database). `available()` is false when the backend cannot run here (no PostgreSQL server named):
// each case then reports itself skipped (H2R_STORE_SKIP_UNLESS). `daemons` and `rescues`: the store
// implements the daemon methods (heartbeat, list_daemons, try_lead, reserve_guard) and
// EventRow::rescued_from/rescues. `one_claim_per_employee`:
// an employee's event is never claimed while another of its events is (also one that arrived with an
// earlier effective date after the later one was claimed); both stores keep it.
struct SqliteStoreFactory {
  static constexpr bool daemons = true;
  static constexpr bool rescues = true;
  static constexpr bool one_claim_per_employee = true;
  static bool available() { return true; }
  static std::string skip_reason() { return ""; }
  static std::unique_ptr<Store> open(const TempDir& dir) {
    auto store = open_sqlite_store(dir.file("h2r.db"));
    if (!store) FAIL(store.error().message);
    return std::move(store).value();
  }
};

// The PostgreSQL server the tests use: H2R_TEST_PG_URL, or the PG* variables pg_virtualenv exports
// (libpq reads them when the URL leaves a part out). nullopt: none, the PostgreSQL cases skip.
inline std::optional<std::string> test_pg_url() {
  if (const char* url = std::getenv("H2R_TEST_PG_URL"); url != nullptr && *url != '\0') return std::string(url);
  if (const char* host = std::getenv("PGHOST"); host != nullptr && *host != '\0') return std::string("postgresql://");
  return std::nullopt;
}

// Each test folder gets its own schema on the server (dropped at the folder's scope exit).
struct PgStoreFactory {
  static constexpr bool daemons = true;
  static constexpr bool rescues = true;
  static constexpr bool one_claim_per_employee = true;
  static bool available() { return test_pg_url().has_value(); }
  static std::string skip_reason() {
    return "SKIPPED (store): PostgreSQL not configured (set H2R_TEST_PG_URL, or run under pg_virtualenv)";
  }
  static std::string schema_of(const TempDir& dir) {
    static std::mutex mutex;
    static std::map<std::string, std::string> schemas;
    static std::atomic<int> counter{0};
    std::lock_guard lock(mutex);
    auto [it, added] = schemas.try_emplace(dir.path());
    if (added) {
      it->second = fmt::format("h2r_test_{}_{}", ::getpid(), counter++);
      dir.on_exit([schema = it->second, path = dir.path()] {
        drop_schema(schema);
        std::lock_guard relock(mutex);
        schemas.erase(path);
      });
    }
    return it->second;
  }
  static void drop_schema(const std::string& schema) {
    auto conn = pg::Conn::connect(*test_pg_url(), "", "test server");
    if (!conn) return;
    (void)(*conn)->exec("DROP SCHEMA IF EXISTS " + (*conn)->quote_identifier(schema) + " CASCADE");
  }
  static std::unique_ptr<Store> open(const TempDir& dir) {
    auto url = test_pg_url();
    REQUIRE_MESSAGE(url.has_value(), skip_reason());
    auto store = open_pg_store(PgOptions{*url, "", schema_of(dir)});
    if (!store) FAIL(store.error().message);
    return std::move(store).value();
  }
};

#define H2R_STORE_IMPLEMENTATIONS ::h2r::store_test::SqliteStoreFactory, ::h2r::store_test::PgStoreFactory

// First line of every contract case: a backend that cannot run here reports the case skipped (a
// MESSAGE, and ctest's SKIP_REGULAR_EXPRESSION on "SKIPPED (store): "), never a silent pass.
#define H2R_STORE_SKIP_UNLESS_AVAILABLE(F)                                                                      \
  do {                                                                                                      \
    if (!F::available()) {                                                                                  \
      MESSAGE(F::skip_reason());                                                                            \
      return;                                                                                               \
    }                                                                                                       \
  } while (false)

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

TYPE_TO_STRING_AS("sqlite", h2r::store_test::SqliteStoreFactory);
TYPE_TO_STRING_AS("postgres", h2r::store_test::PgStoreFactory);
