// ScratchDatabase: a PostgreSQL database of its own for one test, on the server `pg_virtualenv` started
// (PGHOST, PGPORT, PGUSER in the environment); dropped at the end.
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

// True when a PostgreSQL server is named (scripts/test runs the "pg …" cases inside pg_virtualenv).
inline bool pg_available() { return !getenv_or("PGHOST").empty(); }

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
  std::string url() const {
    return fmt::format("postgresql://{}@{}:{}/{}", getenv_or("PGUSER"), getenv_or("PGHOST"),
                       getenv_or("PGPORT").empty() ? "5432" : getenv_or("PGPORT"), m_name);
  }

private:
  std::string m_name;
};

} // namespace h2r::test
