// A small RAII layer over the SQLite C API: a connection with a prepared-statement cache, statements
// that reset themselves after use, and transactions that roll back unless committed. Not thread-safe:
// the owner (SqliteStore) serialises access. Errors carry SQLite's message only; callers add the
// database file and what they were doing.
#pragma once

#include "core/error.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace h2r::sqlite {

// The ErrorKind for an SQLite result code: busy/locked/full → transient, a unique or primary-key
// violation → conflict, a foreign-key violation → not_found, anything else → permanent.
Error make_error(int code, std::string message);

class Db;

// One use of a cached prepared statement. Binding indexes are 1-based, columns 0-based. On destruction
// the statement is reset (releasing its read snapshot) and its bindings cleared.
class Query {
public:
  Query(Db& db, sqlite3_stmt* stmt) : m_db(&db), m_stmt(stmt) {}
  Query(Query&& other) noexcept;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& operator=(Query&&) = delete;
  ~Query();

  Query& bind_int(int index, long long value);
  Query& bind_real(int index, double value);
  Query& bind_text(int index, std::string_view value);
  Query& bind_blob(int index, std::string_view value);
  Query& bind_null(int index);

  // Advances: true when a row is available, false when done.
  Result<bool> step();
  // Steps until done, ignoring rows.
  Result<void> run();
  // Makes the statement ready to run again (bindings stay until rebound or the Query ends).
  void reset();

  bool is_null(int column) const;
  long long int_at(int column) const;
  double real_at(int column) const;
  std::string text_at(int column) const;
  // The text without a copy: valid until the next step(), reset() or the Query's end.
  std::string_view text_view(int column) const;
  std::string blob_at(int column) const;

private:
  Db* m_db;
  sqlite3_stmt* m_stmt;
  int m_bind_error = 0; // the first failed bind, reported by step()
};

class Db {
public:
  // Opens (SQLITE_OPEN_READWRITE|CREATE|NOMUTEX) without touching the schema.
  static Result<std::unique_ptr<Db>> open(const std::string& path);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs one or more statements without results.
  Result<void> exec(const std::string& sql);
  // A statement prepared once per Db and reused; `sql` must be a single statement.
  Result<Query> query(const std::string& sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  long long changes() const;
  Error last_error(int code) const;
  sqlite3* handle() const { return m_db; }
  const std::string& path() const { return m_path; }

private:
  Db(sqlite3* db, std::string path) : m_db(db), m_path(std::move(path)) {}
  sqlite3* m_db;
  std::string m_path;
  std::unordered_map<std::string, sqlite3_stmt*> m_cache;
};

// BEGIN IMMEDIATE (takes the write lock at once, so concurrent writers wait on busy_timeout rather than
// fail on upgrade); rolled back on destruction unless commit() succeeded.
class Transaction {
public:
  static Result<Transaction> begin(Db& db);
  // BEGIN (deferred): a read transaction, its snapshot taken by the first read.
  static Result<Transaction> begin_read(Db& db);
  Transaction(Transaction&& other) noexcept : m_db(other.m_db) { other.m_db = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Result<void> commit();

private:
  explicit Transaction(Db& db) : m_db(&db) {}
  Db* m_db;
};

} // namespace h2r::sqlite
