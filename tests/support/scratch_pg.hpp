// ScratchDatabase: a database of its own on the PostgreSQL server that pg_virtualenv started (PGHOST,
// PGPORT, PGUSER; PGPASSWORD for the password), created for one test and dropped at its end.
#pragma once

#include "support/process.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace h2r::test {

inline std::string getenv_or(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Whether a PostgreSQL server was named (pg_virtualenv exports PGHOST): PG cases skip without one.
inline bool pg_server_named() { return !getenv_or("PGHOST").empty(); }

// First line of an end-to-end PostgreSQL case: without a server it reports itself skipped (ctest's
// SKIP_REGULAR_EXPRESSION on "SKIPPED (store): "), never a silent pass.
#define H2R_SKIP_UNLESS_PG()                                                                                  \
  do {                                                                                                      \
    if (!::h2r::test::pg_server_named()) {                                                                  \
      MESSAGE("SKIPPED (store): no PostgreSQL server (PGHOST unset); scripts/test runs this inside pg_virtualenv"); \
      return;                                                                                               \
    }                                                                                                       \
  } while (false)

class ScratchDatabase {
public:
  ScratchDatabase() {
    std::random_device rd;
    m_name = fmt::format("h2r_test_{}_{}", ::getpid(), rd() % 1'000'000);
    auto r = run_process({"createdb", m_name});
    if (r.exit_code != 0) throw std::runtime_error("createdb failed: " + r.err);
  }
  ~ScratchDatabase() { run_process({"dropdb", "--if-exists", "--force", m_name}); }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  std::string host() const { return getenv_or("PGHOST"); }
  int port() const { return getenv_or("PGPORT").empty() ? 5432 : std::stoi(getenv_or("PGPORT")); }
  // The database's URL; `port` replaces the server's (a proxy in front of it).
  std::string url(int port = 0) const {
    return fmt::format("postgresql://{}@{}:{}/{}", getenv_or("PGUSER"), host(), port ? port : this->port(), m_name);
  }

private:
  std::string m_name;
};

// One daemon's h2rd.yaml on `database_url`, in a folder of its own beside the shared rules.yaml and
// secret.key: inbox/ inside it, a 1 s scheduler and a 10 s claim lease, no listener.
inline std::string pg_daemon_config(const std::string& database_url) {
  return fmt::format("database: {}\n"
                     "inbox: inbox\n"
                     "rules: {{ path: ../rules.yaml, on_change: manual }}\n"
                     "secret_key_file: ../secret.key\n"
                     "timezone: UTC\n"
                     "scheduler: {{ interval: 1s, workers: 4, claim_lease: 10s }}\n"
                     "listen: \"\"\n"
                     "log: {{ level: info, format: text }}\n",
                     database_url);
}

} // namespace h2r::test
