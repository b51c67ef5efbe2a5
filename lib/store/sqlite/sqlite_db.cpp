#include "store/sqlite/sqlite_db.hpp"

#include <sqlite3.h>

#include <mutex>

namespace h2r::sqlite {

Error make_error(int code, std::string message) {
  ErrorKind kind = ErrorKind::permanent;
  switch (code & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
  case SQLITE_FULL: kind = ErrorKind::transient; break;
  case SQLITE_CONSTRAINT:
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) kind = ErrorKind::conflict;
    else if (code == SQLITE_CONSTRAINT_FOREIGNKEY) kind = ErrorKind::not_found;
    break;
  default: break;
  }
  return Error{kind, std::move(message)};
}

// ---- Query --------------------------------------------------------------------------------------

Query::Query(Query&& other) noexcept
    : m_db(other.m_db), m_stmt(other.m_stmt), m_bind_error(other.m_bind_error) {
  other.m_stmt = nullptr;
}

Query::~Query() {
  if (m_stmt) {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
  }
}

Query& Query::bind_int(int index, long long value) {
  int rc = sqlite3_bind_int64(m_stmt, index, value);
  if (rc != SQLITE_OK && !m_bind_error) m_bind_error = rc;
  return *this;
}

Query& Query::bind_real(int index, double value) {
  int rc = sqlite3_bind_double(m_stmt, index, value);
  if (rc != SQLITE_OK && !m_bind_error) m_bind_error = rc;
  return *this;
}

Query& Query::bind_text(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(m_stmt, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && !m_bind_error) m_bind_error = rc;
  return *this;
}

Query& Query::bind_blob(int index, std::string_view value) {
  int rc = sqlite3_bind_blob64(m_stmt, index, value.data(), value.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && !m_bind_error) m_bind_error = rc;
  return *this;
}

Query& Query::bind_null(int index) {
  int rc = sqlite3_bind_null(m_stmt, index);
  if (rc != SQLITE_OK && !m_bind_error) m_bind_error = rc;
  return *this;
}

Result<bool> Query::step() {
  if (m_bind_error) return unexpected(make_error(m_bind_error, sqlite3_errstr(m_bind_error)));
  int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return unexpected(m_db->last_error(rc));
}

Result<void> Query::run() {
  while (H2R_TRY(step())) {
  }
  return {};
}

void Query::reset() { sqlite3_reset(m_stmt); }

bool Query::is_null(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }
long long Query::int_at(int column) const { return sqlite3_column_int64(m_stmt, column); }
double Query::real_at(int column) const { return sqlite3_column_double(m_stmt, column); }

std::string Query::text_at(int column) const {
  const unsigned char* text = sqlite3_column_text(m_stmt, column);
  int size = sqlite3_column_bytes(m_stmt, column);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::string_view Query::text_view(int column) const {
  const unsigned char* text = sqlite3_column_text(m_stmt, column);
  int size = sqlite3_column_bytes(m_stmt, column);
  if (!text) return {};
  return std::string_view(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::string Query::blob_at(int column) const {
  const void* data = sqlite3_column_blob(m_stmt, column);
  int size = sqlite3_column_bytes(m_stmt, column);
  if (!data) return {};
  return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

// ---- Db -----------------------------------------------------------------------------------------

namespace {

// A savepoint or statement journal stays in memory up to this size (SQLite's default: 64 KiB), then
// spills to a temporary file. One outcome's savepoint in record_outcomes holds the before-images of the
// ~15 pages it touches (events and its indexes, history, employees, links), just over 64 KiB: each batch
// created, wrote and deleted a file in the temporary folder (half of all pwrite calls per hire). 120 KiB
// keeps them in memory; a statement that changes more (a heartbeat over thousands of claims, a bulk
// approve) still spills past it.
// It must stay under 128 KiB: the in-memory journal is kept in chunks of this size and spills by
// writing whole chunks, and SQLite's unix VFS writes at most 128 KiB - 1 bytes at once (seekAndWriteFd
// masks the count with 0x1ffff): a 1 MiB chunk was written as 0 bytes, and every statement that spilled
// failed with "database or disk is full" (tests/unit/store/sqlite_store_daemons_test.cpp).
constexpr int k_statement_journal_spill = 120 << 10;
static_assert(k_statement_journal_spill < (128 << 10));

void configure_sqlite_once() {
  static std::once_flag once;
  // Only possible before SQLite initialises itself; otherwise (SQLITE_MISUSE) the default stays.
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, k_statement_journal_spill); });
}

} // namespace

Result<std::unique_ptr<Db>> Db::open(const std::string& path) {
  configure_sqlite_once();
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &handle,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error error = make_error(rc, handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    sqlite3_close_v2(handle);
    return unexpected(std::move(error));
  }
  sqlite3_extended_result_codes(handle, 1);
  return std::unique_ptr<Db>(new Db(handle, path));
}

Db::~Db() {
  for (auto& [sql, stmt] : m_cache) sqlite3_finalize(stmt);
  sqlite3_close_v2(m_db);
}

Error Db::last_error(int code) const { return make_error(code, sqlite3_errmsg(m_db)); }

Result<void> Db::exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  Error error = make_error(rc, message ? message : sqlite3_errstr(rc));
  sqlite3_free(message);
  return unexpected(std::move(error));
}

Result<Query> Db::query(const std::string& sql) {
  auto found = m_cache.find(sql);
  if (found != m_cache.end()) return Query(*this, found->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(m_db, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) return unexpected(last_error(rc));
  m_cache.emplace(sql, stmt);
  return Query(*this, stmt);
}

long long Db::changes() const { return sqlite3_changes64(m_db); }

// ---- Transaction --------------------------------------------------------------------------------

Result<Transaction> Transaction::begin(Db& db) {
  auto begin = H2R_TRY(db.query("BEGIN IMMEDIATE"));
  H2R_TRY(begin.run());
  return Transaction(db);
}

Result<Transaction> Transaction::begin_read(Db& db) {
  auto begin = H2R_TRY(db.query("BEGIN"));
  H2R_TRY(begin.run());
  return Transaction(db);
}

Transaction::~Transaction() {
  if (m_db && !sqlite3_get_autocommit(m_db->handle())) sqlite3_exec(m_db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Result<void> Transaction::commit() {
  auto commit = H2R_TRY(m_db->query("COMMIT"));
  H2R_TRY(commit.run());
  m_db = nullptr;
  return {};
}

} // namespace h2r::sqlite
