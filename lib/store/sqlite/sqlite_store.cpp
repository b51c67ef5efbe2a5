// open_sqlite_store, and the SqliteStore methods for connections, employees, links and meta.
// Events live in sqlite_store_events.cpp.
#include "store/sqlite/sqlite_store.hpp"

#include "store/flat_json.hpp"
#include "store/sqlite/sqlite_migrations.hpp"
#include "store/sqlite/sqlite_store_impl.hpp"

#include "store/employee_columns.hpp"
#include "store/link_columns.hpp"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace h2r {

namespace {

// How long a statement waits for another process's (or connection's) write lock before failing.
constexpr int k_busy_timeout_ms = 5000;

// Creates the database file with mode 0600 when it is missing: it holds encrypted secrets, and SQLite
// gives its -wal and -shm files the mode of the database file.
Result<void> create_private_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return {};
    return fail(ErrorKind::permanent, fmt::format("cannot create database {}: {}", path, std::strerror(errno)));
  }
  int rc = ::fchmod(fd, 0600); // the umask may have removed bits from 0600
  int err = errno;
  ::close(fd);
  if (rc != 0)
    return fail(ErrorKind::permanent, fmt::format("cannot chmod database {}: {}", path, std::strerror(err)));
  return {};
}

Unexpected<Error> annotate(const std::string& path, std::string_view what, Error error) {
  error.message = fmt::format("database {}: {}: {}", path, what, error.message);
  return unexpected(std::move(error));
}

ConnectionRow read_connection(const sqlite::Query& q) {
  ConnectionRow row;
  row.name = q.text_at(0);
  row.account_id = q.text_at(1);
  row.client_id = q.text_at(2);
  row.secret_blob = q.blob_at(3);
  row.oauth_url = q.text_at(4);
  row.api_url = q.text_at(5);
  row.rate_limit = q.real_at(6);
  row.created_at_ms = q.int_at(7);
  row.updated_at_ms = q.int_at(8);
  row.allow_insecure_http = q.int_at(9) != 0;
  return row;
}
constexpr const char* k_connection_columns =
    "name, account_id, client_id, secret_blob, oauth_url, api_url, rate_limit, created_at_ms, updated_at_ms, "
    "allow_insecure_http";

Result<EmployeeRow> read_employee(const sqlite::Query& q) {
  return decode_employee(q.text_at(0), q.text_view(1), q.text_view(2), q.int_at(3));
}

// Columns 7..9 (schema version 6): pushed_body (NULL = unknown), pushed_at_ms, pushed_groups.
Result<LinkRow> read_link(const sqlite::Query& q) {
  LinkRow row;
  row.connection = q.text_at(0);
  row.employee_id = q.text_at(1);
  row.zoom_user_id = q.text_at(2);
  row.user_name = q.text_at(3);
  row.pushed_digest = q.text_at(4);
  row.active = q.int_at(5) != 0;
  row.updated_at_ms = q.int_at(6);
  row.pushed_at_ms = q.int_at(8);
  std::optional<std::string> pushed_body;   // NULL: unknown
  if (!q.is_null(7)) pushed_body = q.text_at(7);
  H2R_TRY(decode_link_json(row, pushed_body, q.text_at(9)));
  row.shared = q.int_at(10) != 0;
  return row;
}

} // namespace

int sqlite_schema_version() { return sqlite::schema_version(); }

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, std::uint64_t cache_bytes) {
  if (path.empty()) return fail(ErrorKind::invalid, "no database file given (database is empty)");
  if (path != ":memory:") H2R_TRY(create_private_file(path));
  auto opened = sqlite::Db::open(path);
  if (!opened) return annotate(path, "cannot open", std::move(opened).error());
  std::unique_ptr<sqlite::Db> db = std::move(opened).value();
  sqlite3_busy_timeout(db->handle(), k_busy_timeout_ms);
  auto setup = [&]() -> Result<void> {
    H2R_TRY(db->exec("PRAGMA foreign_keys = ON"));
    auto wal = H2R_TRY(db->query("PRAGMA journal_mode = WAL"));
    if (!H2R_TRY(wal.step()) || wal.text_at(0) != "wal")
      return fail(ErrorKind::permanent, "cannot switch to WAL journal mode");
    H2R_TRY(db->exec("PRAGMA synchronous = NORMAL")); // durable enough with WAL; never corrupts
    // A large ingest touches index pages all over, and spilling them to the WAL before the commit costs
    // more than memory: one connection may use the whole budget, the soft heap limit keeps the sum.
    cache_bytes = std::clamp(cache_bytes, k_min_database_cache, k_max_database_cache);
    H2R_TRY(db->exec(fmt::format("PRAGMA cache_size = -{}", cache_bytes / 1024)));
    sqlite3_soft_heap_limit64(static_cast<sqlite3_int64>(cache_bytes));
    return {};
  }();
  if (!setup) {
    Error error = std::move(setup).error();
    // WAL needs the database's -wal and -shm files; while no process has the database open, the first
    // one creates them, which needs write access to the folder. An operator of the service's group has
    // the database but not the folder (README.md, "Operators"): say so instead of SQLite's words alone.
    if (path != ":memory:" && !std::filesystem::exists(path + "-shm")) {
      const auto folder = std::filesystem::absolute(path).parent_path();
      if (::access(folder.c_str(), W_OK) != 0)
        error.message += fmt::format(" (this user cannot create the database's -wal and -shm files in {}; they exist "
                                     "while the daemon runs: start it, or run this command as the user the daemon "
                                     "runs as, e.g. sudo -u h2r)",
                                     folder.string());
    }
    return annotate(path, "cannot set up", std::move(error));
  }
  H2R_TRY(sqlite::migrate(*db)); // errors already name the file
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(db)));
}

// ---- connections --------------------------------------------------------------------------------

Result<void> SqliteStore::add_connection(const ConnectionRow& row) {
  return locked(fmt::format("add connection '{}'", row.name), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto q = H2R_TRY(m_db->query(fmt::format("INSERT INTO connections ({}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                                             k_connection_columns)));
    q.bind_text(1, row.name).bind_text(2, row.account_id).bind_text(3, row.client_id);
    q.bind_blob(4, row.secret_blob).bind_text(5, row.oauth_url).bind_text(6, row.api_url);
    q.bind_real(7, row.rate_limit).bind_int(8, row.created_at_ms).bind_int(9, row.updated_at_ms);
    q.bind_int(10, row.allow_insecure_http ? 1 : 0);
    auto done = q.run();
    if (!done && done.error().kind == ErrorKind::conflict)
      return fail(ErrorKind::conflict, "a connection with that name already exists");
    return done;
  });
}

Result<void> SqliteStore::update_connection(const ConnectionRow& row) {
  return locked(fmt::format("update connection '{}'", row.name), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto q = H2R_TRY(m_db->query("UPDATE connections SET account_id = ?2, client_id = ?3, secret_blob = ?4, "
                                 "oauth_url = ?5, api_url = ?6, rate_limit = ?7, updated_at_ms = ?8, "
                                 "allow_insecure_http = ?9 WHERE name = ?1"));
    q.bind_text(1, row.name).bind_text(2, row.account_id).bind_text(3, row.client_id);
    q.bind_blob(4, row.secret_blob).bind_text(5, row.oauth_url).bind_text(6, row.api_url);
    q.bind_real(7, row.rate_limit).bind_int(8, row.updated_at_ms).bind_int(9, row.allow_insecure_http ? 1 : 0);
    H2R_TRY(q.run());
    if (m_db->changes() == 0) return fail(ErrorKind::not_found, "no connection has that name");
    return {};
  });
}

Result<void> SqliteStore::remove_connection(const std::string& name) {
  return locked(fmt::format("remove connection '{}'", name), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto q = H2R_TRY(m_db->query("DELETE FROM connections WHERE name = ?1")); // links, health: CASCADE
    H2R_TRY(q.bind_text(1, name).run());
    if (m_db->changes() == 0) return fail(ErrorKind::not_found, "no connection has that name");
    return {};
  });
}

Result<std::optional<ConnectionRow>> SqliteStore::get_connection(const std::string& name) {
  return locked(fmt::format("read connection '{}'", name), [&]() H2R_REQUIRES(m_mutex) -> Result<std::optional<ConnectionRow>> {
    auto q = H2R_TRY(m_db->query(fmt::format("SELECT {} FROM connections WHERE name = ?1", k_connection_columns)));
    if (!H2R_TRY(q.bind_text(1, name).step())) return std::optional<ConnectionRow>();
    return std::optional<ConnectionRow>(read_connection(q));
  });
}

Result<std::vector<ConnectionRow>> SqliteStore::list_connections() {
  return locked("list connections", [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<ConnectionRow>> {
    auto q = H2R_TRY(m_db->query(fmt::format("SELECT {} FROM connections ORDER BY name", k_connection_columns)));
    std::vector<ConnectionRow> rows;
    while (H2R_TRY(q.step())) rows.push_back(read_connection(q));
    return rows;
  });
}

Result<void> sqlite_write_connection_health(sqlite::Db& db, const ConnectionHealth& health, bool replace) {
  auto q = H2R_TRY(db.query(std::string(replace ? "INSERT OR REPLACE" : "INSERT") +
                            " INTO connection_health (name, healthy, last_error, last_error_at_ms, "
                            "last_success_at_ms, paused_until_ms, pause_reason, pause_kind) VALUES (?,?,?,?,?,?,?,?)"));
  q.bind_text(1, health.name).bind_int(2, health.healthy ? 1 : 0).bind_text(3, health.last_error);
  q.bind_int(4, health.last_error_at_ms).bind_int(5, health.last_success_at_ms);
  q.bind_int(6, health.paused_until_ms).bind_text(7, health.pause_reason);
  q.bind_text(8, to_string(health.pause_kind));
  return q.run();
}

Result<void> SqliteStore::put_connection_health(const ConnectionHealth& health) {
  return locked(fmt::format("record the health of connection '{}'", health.name), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto done = sqlite_write_connection_health(*m_db, health, true);
    if (!done && done.error().kind == ErrorKind::not_found)
      return fail(ErrorKind::not_found, "no connection has that name");
    return done;
  });
}

Result<std::optional<ConnectionHealth>> SqliteStore::get_connection_health(const std::string& name) {
  return locked(fmt::format("read the health of connection '{}'", name),
                [&]() H2R_REQUIRES(m_mutex) -> Result<std::optional<ConnectionHealth>> {
                  auto q = H2R_TRY(m_db->query(
                      "SELECT name, healthy, last_error, last_error_at_ms, last_success_at_ms, paused_until_ms, "
                      "pause_reason, pause_kind FROM connection_health WHERE name = ?1"));
                  if (!H2R_TRY(q.bind_text(1, name).step())) return std::optional<ConnectionHealth>();
                  ConnectionHealth h;
                  h.name = q.text_at(0);
                  h.healthy = q.int_at(1) != 0;
                  h.last_error = q.text_at(2);
                  h.last_error_at_ms = q.int_at(3);
                  h.last_success_at_ms = q.int_at(4);
                  h.paused_until_ms = q.int_at(5);
                  h.pause_reason = q.text_at(6);
                  h.pause_kind = parse_pause_kind(q.text_at(7));
                  return std::optional<ConnectionHealth>(std::move(h));
                });
}

// ---- employees and links ------------------------------------------------------------------------

Result<void> SqliteStore::write_employee(const EmployeeRow& row) {
  // An upsert, not INSERT OR REPLACE: REPLACE deletes and re-inserts, which makes SQLite keep a statement
  // journal, spilled to a temporary file inside record_outcomes' transaction (half of the writes per hire).
  auto q = H2R_TRY(m_db->query("INSERT INTO employees (employee_id, record, status, updated_at_ms) VALUES (?,?,?,?) "
                               "ON CONFLICT (employee_id) DO UPDATE SET record = excluded.record, "
                               "status = excluded.status, updated_at_ms = excluded.updated_at_ms"));
  q.bind_text(1, row.employee_id)
      .bind_text(2, dump_flat_object(row.record))
      .bind_text(3, to_string(row.status))
      .bind_int(4, row.updated_at_ms);
  return q.run();
}

Result<void> SqliteStore::write_link(const LinkRow& row, bool importing) {
  // An upsert, as write_employee: the row keeps its identity and no statement journal is needed.
  auto q = H2R_TRY(m_db->query(fmt::format(
      "INSERT INTO links ({}) VALUES (?,?,?,?,?,?,?,?,?,?,"
      "CASE WHEN ?11 THEN 1 + (SELECT count(*) FROM links WHERE connection = ?1 AND zoom_user_id = ?3) ELSE 0 END) "
      "ON CONFLICT (connection, employee_id) DO UPDATE SET "
      "zoom_user_id = excluded.zoom_user_id, user_name = excluded.user_name, pushed_digest = excluded.pushed_digest, "
      "active = excluded.active, updated_at_ms = excluded.updated_at_ms, pushed_body = excluded.pushed_body, "
      "pushed_at_ms = excluded.pushed_at_ms, pushed_groups = excluded.pushed_groups, "
      "shared = CASE WHEN zoom_user_id = excluded.zoom_user_id THEN shared ELSE 0 END",
      k_link_columns)));
  q.bind_text(1, row.connection).bind_text(2, row.employee_id).bind_text(3, row.zoom_user_id);
  q.bind_text(4, row.user_name).bind_text(5, row.pushed_digest).bind_int(6, row.active ? 1 : 0);
  q.bind_int(7, row.updated_at_ms);
  constexpr auto k_replace = nlohmann::json::error_handler_t::replace;
  if (row.pushed_body.is_null()) q.bind_null(8);
  else q.bind_text(8, row.pushed_body.dump(-1, ' ', false, k_replace));
  q.bind_int(9, row.pushed_at_ms);
  if (row.pushed_groups.empty()) {
    q.bind_text(10, "[]");
  } else {
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& g : row.pushed_groups) groups.push_back({{"name", g.name}, {"id", g.id}});
    q.bind_text(10, groups.dump(-1, ' ', false, k_replace));
  }
  // A new row is marked shared only by an import (h2rd migrate copies a marked pair, each with the
  // next rank); an update keeps the mark while the Zoom user stays the same.
  q.bind_int(11, importing && row.shared ? 1 : 0);
  auto done = q.run();
  if (!done && done.error().kind == ErrorKind::not_found)
    return fail(ErrorKind::not_found, fmt::format("no connection is named '{}'", row.connection));
  if (!done && done.error().kind == ErrorKind::conflict) return link_taken(row);
  return done;
}

Result<std::optional<EmployeeRow>> SqliteStore::get_employee(const std::string& employee_id) {
  return locked(fmt::format("read employee {}", employee_id), [&]() H2R_REQUIRES(m_mutex) -> Result<std::optional<EmployeeRow>> {
    auto q = H2R_TRY(m_db->query(
        "SELECT employee_id, record, status, updated_at_ms FROM employees WHERE employee_id = ?1"));
    if (!H2R_TRY(q.bind_text(1, employee_id).step())) return std::optional<EmployeeRow>();
    return std::optional<EmployeeRow>(H2R_TRY(read_employee(q)));
  });
}

Result<void> SqliteStore::put_employee(const EmployeeRow& row) {
  return locked(fmt::format("write employee {}", row.employee_id), [&]() H2R_REQUIRES(m_mutex) { return write_employee(row); });
}

Result<std::vector<EmployeeRow>> SqliteStore::list_employees() {
  return locked("list employees", [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<EmployeeRow>> {
    auto q = H2R_TRY(m_db->query("SELECT employee_id, record, status, updated_at_ms FROM employees "
                                 "ORDER BY employee_id"));
    std::vector<EmployeeRow> rows;
    while (H2R_TRY(q.step())) rows.push_back(H2R_TRY(read_employee(q)));
    return rows;
  });
}

Result<std::optional<LinkRow>> SqliteStore::get_link(const std::string& connection, const std::string& employee_id) {
  return locked(fmt::format("read the link of employee {} in connection '{}'", employee_id, connection),
                [&]() H2R_REQUIRES(m_mutex) -> Result<std::optional<LinkRow>> {
                  auto q = H2R_TRY(m_db->query(fmt::format(
                      "SELECT {} FROM links WHERE connection = ?1 AND employee_id = ?2", k_link_columns)));
                  if (!H2R_TRY(q.bind_text(1, connection).bind_text(2, employee_id).step()))
                    return std::optional<LinkRow>();
                  return std::optional<LinkRow>(H2R_TRY(read_link(q)));
                });
}

Result<void> SqliteStore::put_link(const LinkRow& row) {
  return locked(fmt::format("write the link of employee {} in connection '{}'", row.employee_id, row.connection),
                [&]() H2R_REQUIRES(m_mutex) { return write_link(row); });
}

Result<std::vector<LinkRow>> SqliteStore::list_links(const std::string& connection) {
  return locked(fmt::format("list the links of connection '{}'", connection), [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<LinkRow>> {
    auto q = H2R_TRY(m_db->query(
        fmt::format("SELECT {} FROM links WHERE connection = ?1 ORDER BY employee_id", k_link_columns)));
    q.bind_text(1, connection);
    std::vector<LinkRow> rows;
    while (H2R_TRY(q.step())) rows.push_back(H2R_TRY(read_link(q)));
    return rows;
  });
}

std::string sqlite_links_to_zoom_user_sql() {
  // Two lookups, each by its own index (connection and Zoom user id; connection and userName, ASCII case
  // aside), their rows read by rowid. Joined by OR in one WHERE, SQLite read every link of the connection
  // instead (its primary key gives ORDER BY employee_id for free): a hire's owner check cost O(links).
  return fmt::format("SELECT {} FROM links WHERE rowid IN ("
                     "SELECT rowid FROM links WHERE connection = ?1 AND ?2 <> '' AND zoom_user_id = ?2 UNION ALL "
                     "SELECT rowid FROM links WHERE connection = ?1 AND ?3 <> '' AND user_name = ?3 COLLATE NOCASE) "
                     "ORDER BY employee_id",
                     k_link_columns);
}

Result<std::vector<LinkRow>> SqliteStore::links_to_zoom_user(const std::string& connection,
                                                            const std::string& zoom_user_id,
                                                            const std::string& user_name) {
  return locked(fmt::format("find the links to Zoom user '{}' in connection '{}'", zoom_user_id, connection),
                [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<LinkRow>> {
                  static const std::string k_sql = sqlite_links_to_zoom_user_sql();
                  auto q = H2R_TRY(m_db->query(k_sql));
                  q.bind_text(1, connection).bind_text(2, zoom_user_id).bind_text(3, user_name);
                  std::vector<LinkRow> rows;
                  while (H2R_TRY(q.step())) rows.push_back(H2R_TRY(read_link(q)));
                  return rows;
                });
}

Result<std::string> SqliteStore::reserve_user_name(const UserNameClaim& claim) {
  return locked(fmt::format("reserve userName '{}' for employee {} in connection '{}'", claim.user_name,
                            claim.employee_id, claim.connection),
                [&]() H2R_REQUIRES(m_mutex) -> Result<std::string> {
                  H2R_TRY(check_user_name_claim(claim));
                  // BEGIN IMMEDIATE: another store on the file reserves before or after this one. The
                  // key the employee held before is given up only when the new one is theirs (a
                  // refusal rolls back).
                  auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
                  {
                    auto q = H2R_TRY(m_db->query(
                        "DELETE FROM user_names WHERE connection = ?1 AND employee_id = ?2 AND name_key <> ?3"));
                    H2R_TRY(q.bind_text(1, claim.connection).bind_text(2, claim.employee_id).bind_text(3, claim.key).run());
                  }
                  auto q = H2R_TRY(m_db->query(
                      "INSERT INTO user_names(connection, name_key, user_name, employee_id, at_ms) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(connection, name_key) DO UPDATE SET "
                      "user_name = excluded.user_name, at_ms = excluded.at_ms "
                      "WHERE user_names.employee_id = excluded.employee_id"));
                  q.bind_text(1, claim.connection).bind_text(2, claim.key).bind_text(3, claim.user_name);
                  q.bind_text(4, claim.employee_id).bind_int(5, claim.now_ms);
                  auto done = q.run();
                  if (!done && done.error().kind == ErrorKind::not_found)
                    return fail(ErrorKind::not_found, fmt::format("no connection is named '{}'", claim.connection));
                  H2R_TRY(std::move(done));
                  if (m_db->changes() > 0) {
                    H2R_TRY(tx.commit());
                    return std::string();
                  }
                  auto holder = H2R_TRY(m_db->query("SELECT employee_id FROM user_names WHERE connection = ?1 AND name_key = ?2"));
                  holder.bind_text(1, claim.connection).bind_text(2, claim.key);
                  if (!H2R_TRY(holder.step())) return fail(ErrorKind::transient, "the userName reservation vanished");
                  return holder.text_at(0);
                });
}

Result<std::vector<PlanInputs>> SqliteStore::plan_inputs(const std::vector<std::string>& employee_ids,
                                                         const std::vector<std::string>& connections) {
  return locked(fmt::format("read the employees and links of {} events", employee_ids.size()),
                [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<PlanInputs>> {
                  // One read transaction (one snapshot, one set of locks) for the whole batch.
                  auto tx = H2R_TRY(sqlite::Transaction::begin_read(*m_db));
                  auto employee = H2R_TRY(m_db->query(
                      "SELECT employee_id, record, status, updated_at_ms FROM employees WHERE employee_id = ?1"));
                  // An employee's links in every connection at once (links_by_employee): a daemon of
                  // hundreds of connections does one lookup per event, not one per event and connection.
                  auto link = H2R_TRY(m_db->query(fmt::format("SELECT {} FROM links WHERE employee_id = ?1",
                                                              k_link_columns)));
                  std::vector<PlanInputs> inputs;
                  inputs.reserve(employee_ids.size());
                  for (const auto& employee_id : employee_ids) {
                    PlanInputs& in = inputs.emplace_back();
                    if (H2R_TRY(employee.bind_text(1, employee_id).step())) in.employee = H2R_TRY(read_employee(employee));
                    employee.reset();
                    std::vector<LinkRow> links;
                    link.bind_text(1, employee_id);
                    while (H2R_TRY(link.step())) links.push_back(H2R_TRY(read_link(link)));
                    link.reset();
                    in.links = links_in_order(std::move(links), connections);
                  }
                  H2R_TRY(tx.commit());
                  return inputs;
                });
}

Result<std::set<std::string>> SqliteStore::seen_fields() {
  return locked("list the fields seen", [&]() H2R_REQUIRES(m_mutex) -> Result<std::set<std::string>> {
    auto q = H2R_TRY(m_db->query("SELECT name FROM fields_seen"));
    std::set<std::string> names;
    while (H2R_TRY(q.step())) names.insert(q.text_at(0));
    return names;
  });
}

// ---- meta ---------------------------------------------------------------------------------------

Result<std::optional<std::string>> SqliteStore::get_meta(const std::string& key) {
  return locked(fmt::format("read meta '{}'", key), [&]() H2R_REQUIRES(m_mutex) -> Result<std::optional<std::string>> {
    auto q = H2R_TRY(m_db->query("SELECT value FROM meta WHERE key = ?1"));
    if (!H2R_TRY(q.bind_text(1, key).step())) return std::optional<std::string>();
    return std::optional<std::string>(q.text_at(0));
  });
}

Result<void> SqliteStore::set_meta(const std::string& key, const std::string& value) {
  return locked(fmt::format("write meta '{}'", key), [&]() H2R_REQUIRES(m_mutex) -> Result<void> {
    auto q = H2R_TRY(m_db->query("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)"));
    return q.bind_text(1, key).bind_text(2, value).run();
  });
}

} // namespace h2r
