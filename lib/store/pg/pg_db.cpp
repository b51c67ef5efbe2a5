#include "store/pg/pg_db.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

namespace h2r::pg {

namespace {

// How long connecting may take before it fails (transient), unless the URL says otherwise.
constexpr const char* k_connect_timeout_s = "10";

// Removes every occurrence of `secret` from `text` (libpq's messages may quote conninfo parts).
std::string scrub(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
    text.replace(at, secret.size(), "***");
  return text;
}

std::string trim_message(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The password a conninfo string itself carries ("" when none or unparsable).
std::string password_in(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  std::string password;
  if (options == nullptr) return password;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o)
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) password = o->val;
  PQconninfoFree(options);
  return password;
}

} // namespace

// ---- Params ---------------------------------------------------------------------------------------

Params& Params::text(std::string_view value) {
  m_values.emplace_back(value);
  m_null.push_back(false);
  m_formats.push_back(0);
  return *this;
}
Params& Params::integer(long long value) { return text(std::to_string(value)); }
Params& Params::real(double value) { return text(fmt::format("{}", value)); }
Params& Params::boolean(bool value) { return text(value ? "true" : "false"); }
Params& Params::bytes(std::string_view value) {
  m_values.emplace_back(value);
  m_null.push_back(false);
  m_formats.push_back(1);
  return *this;
}
Params& Params::null() {
  m_values.emplace_back();
  m_null.push_back(true);
  m_formats.push_back(0);
  return *this;
}

// ---- Rows -----------------------------------------------------------------------------------------

Rows::~Rows() {
  if (m_result != nullptr) PQclear(m_result);
}
int Rows::size() const { return PQntuples(m_result); }
long long Rows::affected() const {
  const char* n = PQcmdTuples(m_result);
  return (n == nullptr || *n == '\0') ? 0 : std::atoll(n);
}
bool Rows::is_null(int row, int column) const { return PQgetisnull(m_result, row, column) != 0; }
std::string Rows::text(int row, int column) const {
  return std::string(PQgetvalue(m_result, row, column), static_cast<std::size_t>(PQgetlength(m_result, row, column)));
}
long long Rows::integer(int row, int column) const {
  return is_null(row, column) ? 0 : std::atoll(PQgetvalue(m_result, row, column));
}
double Rows::real(int row, int column) const {
  return is_null(row, column) ? 0 : std::strtod(PQgetvalue(m_result, row, column), nullptr);
}
bool Rows::boolean(int row, int column) const {
  return !is_null(row, column) && PQgetvalue(m_result, row, column)[0] == 't';
}
std::string Rows::bytes(int row, int column) const {
  if (is_null(row, column)) return {};
  std::size_t length = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(m_result, row, column)), &length);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), length);
  PQfreemem(raw);
  return out;
}

// ---- Conn -----------------------------------------------------------------------------------------

ErrorKind kind_of_sqlstate(std::string_view sqlstate) {
  if (sqlstate == "23505") return ErrorKind::conflict;  // unique_violation
  if (sqlstate == "23503") return ErrorKind::not_found; // foreign_key_violation
  // serialization_failure, statement_completion_unknown, deadlock_detected, lock_not_available,
  // query_canceled (a statement timeout), and the classes connection exception (08), insufficient
  // resources (53) and operator intervention's shutdowns (57P01-57P03, 57P05): the same call may succeed later.
  if (sqlstate == "40001" || sqlstate == "40003" || sqlstate == "40P01" || sqlstate == "55P03" ||
      sqlstate == "57014" || sqlstate.starts_with("08") || sqlstate.starts_with("53") ||
      (sqlstate.starts_with("57P") && sqlstate != "57P04")) // 57P04: the database was dropped
    return ErrorKind::transient;
  // Everything else needs a person: authorization (28), invalid catalog name (3D000), syntax or
  // privilege (42), data exceptions (22), and the rest.
  return ErrorKind::permanent;
}

ErrorKind kind_of_connect_failure(bool needs_password, std::string_view message) {
  if (needs_password) return ErrorKind::permanent;
  // The server's refusals that need a person (28000/28P01 authentication, 3D000 no such database, 42501
  // no CONNECT privilege) and libpq's own refusals of the conninfo ("invalid ..." values or options).
  for (std::string_view words : {"authentication", "does not exist", "no pg_hba.conf entry",
                                 "permission denied", "invalid"})
    if (message.find(words) != std::string_view::npos) return ErrorKind::permanent;
  // An unreachable or starting server, a timeout, too many clients: it may come back.
  return ErrorKind::transient;
}

Result<std::unique_ptr<Conn>> Conn::connect(const std::string& conninfo, const std::string& password,
                                            const std::string& label) {
  // connect_timeout and fallback_application_name first: the URL's own values (expanded from dbname)
  // override them; the password last, overriding libpq's own lookup.
  // TCP keepalives and a user timeout: a server or network that silently vanished fails the call within
  // about a minute (transient; the next call reconnects) instead of hanging a worker for hours.
  const char* keywords[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                            "tcp_user_timeout", "fallback_application_name", "dbname", "password", nullptr};
  const char* values[] = {k_connect_timeout_s, "30", "10", "3", "60000", "h2rd", conninfo.c_str(),
                          password.empty() ? nullptr : password.c_str(), nullptr};
  if (password.empty()) keywords[7] = nullptr;
  PGconn* conn = PQconnectdbParams(keywords, values, 1);
  if (conn == nullptr) return fail(ErrorKind::transient, fmt::format("{}: cannot connect: out of memory", label));
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = scrub(scrub(trim_message(PQerrorMessage(conn)), password), password_in(conninfo));
    const ErrorKind kind = kind_of_connect_failure(PQconnectionNeedsPassword(conn) != 0, message);
    PQfinish(conn);
    return fail(kind, fmt::format("{}: cannot connect: {}", label, message));
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr); // NOTICEs (IF NOT EXISTS) are not errors
  return std::unique_ptr<Conn>(new Conn(conn));
}

Conn::~Conn() { PQfinish(m_conn); }

// Still in pipeline mode (an exec_many that could not leave it) counts as broken: it cannot run
// ordinary statements, so it must not go back to the pool.
bool Conn::broken() const { return PQstatus(m_conn) != CONNECTION_OK || PQpipelineStatus(m_conn) != PQ_PIPELINE_OFF; }

std::string Conn::describe() const {
  const char* host = PQhost(m_conn);
  const char* port = PQport(m_conn);
  const char* db = PQdb(m_conn);
  return fmt::format("host {} port {} database {}", host ? host : "?", port ? port : "?", db ? db : "?");
}

Error Conn::error_of(pg_result* result) const {
  if (PQstatus(m_conn) != CONNECTION_OK)
    return Error{ErrorKind::transient,
                 fmt::format("the connection to the server was lost: {}", trim_message(PQerrorMessage(m_conn)))};
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  std::string message = primary ? primary : trim_message(PQerrorMessage(m_conn));
  if (detail) message += fmt::format(" ({})", detail);
  Error error{state ? kind_of_sqlstate(state) : ErrorKind::transient, std::move(message)};
  if (state) error.code = state;
  return error;
}

Result<Rows> Conn::exec(const std::string& sql, const Params& params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  for (std::size_t i = 0; i < params.m_values.size(); ++i) {
    values.push_back(params.m_null[i] ? nullptr : params.m_values[i].data());
    lengths.push_back(static_cast<int>(params.m_values[i].size()));
  }
  PGresult* result = PQexecParams(m_conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                  lengths.data(), params.m_formats.data(), 0);
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error error = error_of(result);
    if (result) PQclear(result);
    return unexpected(std::move(error));
  }
  return Rows(result);
}

Result<std::vector<Rows>> Conn::exec_many(const std::string& sql, const std::vector<Params>& batch) {
  // Statements per sync point: their results (a few bytes each) fit the socket buffers, so sending
  // in blocking mode without reading cannot stall on a server waiting for its results to be read.
  constexpr std::size_t k_per_sync = 256;
  std::vector<Rows> out;
  out.reserve(batch.size());
  for (std::size_t start = 0; start < batch.size(); start += k_per_sync) {
    const std::size_t end = std::min(batch.size(), start + k_per_sync);
    if (PQenterPipelineMode(m_conn) != 1) return unexpected(error_of(nullptr));
    bool sent = true;
    for (std::size_t i = start; i < end && sent; ++i) {
      const Params& params = batch[i];
      std::vector<const char*> values;
      std::vector<int> lengths;
      for (std::size_t p = 0; p < params.m_values.size(); ++p) {
        values.push_back(params.m_null[p] ? nullptr : params.m_values[p].data());
        lengths.push_back(static_cast<int>(params.m_values[p].size()));
      }
      sent = PQsendQueryParams(m_conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               lengths.data(), params.m_formats.data(), 0) == 1;
    }
    std::optional<Error> failure;
    if (!sent) failure = error_of(nullptr);
    if (PQpipelineSync(m_conn) != 1) {
      Error error = error_of(nullptr);
      (void)PQexitPipelineMode(m_conn);
      return unexpected(std::move(error));
    }
    // Every result up to the sync point: one (then NULL) per statement sent, then PGRES_PIPELINE_SYNC.
    for (;;) {
      PGresult* result = PQgetResult(m_conn);
      if (result == nullptr) {
        if (PQstatus(m_conn) != CONNECTION_OK) return unexpected(error_of(nullptr));
        continue; // the end of one statement's results
      }
      const auto status = PQresultStatus(result);
      if (status == PGRES_PIPELINE_SYNC) {
        PQclear(result);
        break;
      }
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        if (!failure) out.emplace_back(result);
        else PQclear(result);
        continue;
      }
      if (status != PGRES_PIPELINE_ABORTED && !failure) failure = error_of(result);
      PQclear(result);
    }
    if (PQexitPipelineMode(m_conn) != 1 && !failure) failure = error_of(nullptr);
    if (failure) return unexpected(std::move(*failure));
  }
  return out;
}

Result<void> Conn::exec_script(const std::string& sql) {
  PGresult* result = PQexec(m_conn, sql.c_str());
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error error = error_of(result);
    if (result) PQclear(result);
    return unexpected(std::move(error));
  }
  PQclear(result);
  return {};
}

std::string Conn::quote_identifier(const std::string& name) const {
  char* quoted = PQescapeIdentifier(m_conn, name.data(), name.size());
  if (quoted == nullptr) return "\"\"";
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

// ---- Tx -------------------------------------------------------------------------------------------

Result<Tx> Tx::begin(Conn& conn) {
  H2R_TRY(conn.exec("BEGIN"));
  return Tx(conn);
}

Tx::~Tx() {
  if (m_conn != nullptr && !m_conn->broken()) (void)m_conn->exec("ROLLBACK");
}

Result<void> Tx::commit() {
  Conn* conn = m_conn;
  m_conn = nullptr;
  H2R_TRY(conn->exec("COMMIT"));
  return {};
}

} // namespace h2r::pg
