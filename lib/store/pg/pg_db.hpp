// A thin RAII layer over libpq: a connection, parameterised statements (PQexecParams only: values never
// go into SQL text), results, and transactions that roll back unless committed. Not thread-safe: the
// owner (PgStore's pool) hands each connection to one caller at a time. Errors carry the server's
// message only (never the conninfo, so never a password); callers add the server and what they did.
#pragma once

#include "core/error.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace h2r::pg {

// Parameters $1, $2, ... in order. Text format, except bytea values (binary).
class Params {
public:
  Params& text(std::string_view value);
  Params& integer(long long value);
  Params& real(double value);
  Params& boolean(bool value);
  Params& bytes(std::string_view value);
  Params& null();
  std::size_t size() const { return m_values.size(); }

private:
  friend class Conn;
  std::vector<std::string> m_values;
  std::vector<bool> m_null;
  std::vector<int> m_formats;
};

// A statement's result rows (text format). Columns 0-based.
class Rows {
public:
  explicit Rows(pg_result* result) : m_result(result) {}
  Rows(Rows&& other) noexcept : m_result(other.m_result) { other.m_result = nullptr; }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  Rows& operator=(Rows&&) = delete;
  ~Rows();

  int size() const;
  bool empty() const { return size() == 0; }
  long long affected() const; // rows changed by INSERT/UPDATE/DELETE
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;
  long long integer(int row, int column) const;
  double real(int row, int column) const;
  bool boolean(int row, int column) const;
  std::string bytes(int row, int column) const; // a bytea column, decoded

private:
  pg_result* m_result;
};

class Conn {
public:
  // Connects with `conninfo` (a URL or key=value string) and, when not empty, `password` (overrides
  // libpq's own lookup). The error message names `label`, never the password.
  static Result<std::unique_ptr<Conn>> connect(const std::string& conninfo, const std::string& password,
                                               const std::string& label);
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn();

  // One statement with parameters.
  Result<Rows> exec(const std::string& sql, const Params& params = {});
  // The same statement once per entry of `batch`, sent in libpq's pipeline mode (one round trip per
  // few hundred statements); the results in order. The first failure ends it (later ones are not run).
  Result<std::vector<Rows>> exec_many(const std::string& sql, const std::vector<Params>& batch);
  // Several statements without parameters or values (DDL of the migrations).
  Result<void> exec_script(const std::string& sql);
  // An identifier quoted for SQL text (schema names: identifiers cannot be parameters).
  std::string quote_identifier(const std::string& name) const;
  // The connection is gone (the server closed it, the network broke): do not reuse it.
  bool broken() const;
  // "host H port P database D" as libpq resolved them.
  std::string describe() const;

private:
  explicit Conn(pg_conn* conn) : m_conn(conn) {}
  Error error_of(pg_result* result) const;
  pg_conn* m_conn;
};

// BEGIN; rolled back on destruction unless commit() succeeded.
class Tx {
public:
  static Result<Tx> begin(Conn& conn);
  Tx(Tx&& other) noexcept : m_conn(other.m_conn) { other.m_conn = nullptr; }
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;
  Tx& operator=(Tx&&) = delete;
  ~Tx();
  Result<void> commit();

private:
  explicit Tx(Conn& conn) : m_conn(&conn) {}
  Conn* m_conn;
};

// The ErrorKind for a SQLSTATE: unique violation → conflict, foreign-key violation → not_found,
// connection, serialization, deadlock, lock, cancel, shutdown and resource errors → transient, else
// permanent. Every error of a statement is classified by this, never by its message.
ErrorKind kind_of_sqlstate(std::string_view sqlstate);

// The ErrorKind of a failed connect. libpq keeps no SQLSTATE for it (the server's refusal reaches
// PQerrorMessage as text only; a failure before the server answered has no code at all), so this is the
// one place that reads words: `needs_password` (PQconnectionNeedsPassword: the server asked for a
// password and none was given) → permanent; else the server's authentication, missing-database and
// privilege refusals and libpq's "invalid" conninfo → permanent; anything else (unreachable, timeout,
// starting up, too many clients) → transient.
ErrorKind kind_of_connect_failure(bool needs_password, std::string_view message);

} // namespace h2r::pg
