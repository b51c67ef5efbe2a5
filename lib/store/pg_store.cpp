// open_pg_store, the connection pool, and the PgStore methods for connections, employees, links, meta.
// Events live in pg_store_events.cpp, ingest in pg_store_ingest.cpp, daemons in pg_store_daemons.cpp.
#include "store/pg_store_impl.hpp"

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace h2r {

namespace {

// Connections one store opens at most; callers beyond wait for one to come back.
constexpr int k_max_connections = 8;
constexpr std::size_t k_max_url = 4096;
constexpr std::size_t k_max_password_file = 4096;
constexpr long long k_schema_lock = 0x6832725f73636865LL; // "h2r_sche"

// "postgresql host H port P database D" from the URL alone (for errors before any connection).
std::string label_of_url(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  std::string host = "(default)", port = "(default)", db = "(default)";
  if (options != nullptr) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || *o->val == '\0') continue;
      const std::string_view key = o->keyword;
      if (key == "host") host = o->val;
      else if (key == "port") port = o->val;
      else if (key == "dbname") db = o->val;
    }
    PQconninfoFree(options);
  }
  return fmt::format("postgresql host {} port {} database {}", host, port, db);
}

bool valid_schema_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  if (!(std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

Result<std::string> read_password_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::invalid, fmt::format("password_file {}: cannot read it", path));
  std::string text(k_max_password_file + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > k_max_password_file)
    return fail(ErrorKind::invalid, fmt::format("password_file {}: longer than {} bytes", path, k_max_password_file));
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return fail(ErrorKind::invalid, fmt::format("password_file {}: line 1 is empty", path));
  return text;
}

ConnectionRow read_connection(const pg::Rows& r, int i) {
  ConnectionRow row;
  row.name = r.text(i, 0);
  row.account_id = r.text(i, 1);
  row.client_id = r.text(i, 2);
  row.secret_blob = r.bytes(i, 3);
  row.oauth_url = r.text(i, 4);
  row.api_url = r.text(i, 5);
  row.rate_limit = r.real(i, 6);
  row.created_at_ms = r.integer(i, 7);
  row.updated_at_ms = r.integer(i, 8);
  row.allow_insecure_http = r.boolean(i, 9);
  return row;
}
constexpr const char* k_connection_columns =
    "name, account_id, client_id, secret_blob, oauth_url, api_url, rate_limit, created_at_ms, updated_at_ms, "
    "allow_insecure_http";

Result<EmployeeRow> read_employee(const pg::Rows& r, int i) {
  EmployeeRow row;
  row.employee_id = r.text(i, 0);
  auto json = nlohmann::json::parse(r.text(i, 1), nullptr, false);
  if (!json.is_object())
    return fail(ErrorKind::permanent, fmt::format("employee {} has a damaged record column", row.employee_id));
  for (const auto& [name, value] : json.items()) {
    if (!value.is_string())
      return fail(ErrorKind::permanent,
                  fmt::format("employee {} has a damaged record column (field {})", row.employee_id, name));
    row.record[name] = value.get<std::string>();
  }
  auto status = parse_hr_status(r.text(i, 2));
  if (!status)
    return fail(ErrorKind::permanent, fmt::format("employee {} has an unknown status '{}'", row.employee_id, r.text(i, 2)));
  row.status = *status;
  row.updated_at_ms = r.integer(i, 3);
  return row;
}

Result<LinkRow> read_link(const pg::Rows& r, int i) {
  LinkRow row;
  row.connection = r.text(i, 0);
  row.employee_id = r.text(i, 1);
  row.zoom_user_id = r.text(i, 2);
  row.user_name = r.text(i, 3);
  row.pushed_digest = r.text(i, 4);
  row.active = r.boolean(i, 5);
  row.updated_at_ms = r.integer(i, 6);
  const auto damaged = [&](std::string_view column) {
    return fail(ErrorKind::permanent, fmt::format("the link of employee {} in connection '{}' has a damaged {} column",
                                                  row.employee_id, row.connection, column));
  };
  if (!r.is_null(i, 7)) {
    row.pushed_body = nlohmann::json::parse(r.text(i, 7), nullptr, false);
    if (!row.pushed_body.is_object()) return damaged("pushed_body");
  }
  row.pushed_at_ms = r.integer(i, 8);
  auto groups = nlohmann::json::parse(r.text(i, 9), nullptr, false);
  if (!groups.is_array()) return damaged("pushed_groups");
  for (const auto& g : groups) {
    if (!g.is_object() || !g.contains("name") || !g["name"].is_string() || !g.contains("id") || !g["id"].is_string())
      return damaged("pushed_groups");
    row.pushed_groups.push_back({g["name"].get<std::string>(), g["id"].get<std::string>()});
  }
  return row;
}
constexpr const char* k_link_columns =
    "connection, employee_id, zoom_user_id, user_name, pushed_digest, active, updated_at_ms, pushed_body, "
    "pushed_at_ms, pushed_groups";

} // namespace

bool is_postgres_url(const std::string& database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

int pg_schema_version() { return pg::schema_version(); }

Result<std::unique_ptr<Store>> open_pg_store(const PgOptions& options) {
  if (!is_postgres_url(options.url))
    return fail(ErrorKind::invalid, "database: a PostgreSQL URL starts with postgresql:// or postgres://");
  if (options.url.size() > k_max_url)
    return fail(ErrorKind::invalid, fmt::format("database: the URL is longer than {} characters", k_max_url));
  if (!options.schema.empty() && !valid_schema_name(options.schema))
    return fail(ErrorKind::invalid, fmt::format("database schema '{}': use 1 to 63 of a-z, 0-9 and _, not starting "
                                                "with a digit", options.schema));
  std::string password;
  if (!options.password_file.empty()) password = H2R_TRY(read_password_file(options.password_file));
  std::string label = label_of_url(options.url);
  auto store = std::make_unique<PgStore>(options, options.url, std::move(password), label);
  auto first = H2R_TRY(store->connect());
  store->set_label("postgresql " + first->describe()); // as libpq resolved it (PG* variables included)
  auto setup = [&]() -> Result<void> {
    if (!options.schema.empty()) {
      auto tx = H2R_TRY(pg::Tx::begin(*first));
      H2R_TRY(first->exec("SELECT pg_advisory_xact_lock($1)", pg::Params().integer(k_schema_lock)));
      H2R_TRY(first->exec("CREATE SCHEMA IF NOT EXISTS " + first->quote_identifier(options.schema)));
      H2R_TRY(tx.commit());
    }
    return pg::migrate(*first);
  }();
  if (!setup) {
    setup.error().message = fmt::format("postgresql {}: {}", first->describe(), setup.error().message);
    return unexpected(std::move(setup).error());
  }
  { PgStore::Lease back(*store, std::move(first)); } // the first connection joins the pool
  return std::unique_ptr<Store>(std::move(store));
}

// ---- the pool -----------------------------------------------------------------------------------

Result<std::unique_ptr<pg::Conn>> PgStore::connect() {
  auto conn = H2R_TRY(pg::Conn::connect(m_conninfo, m_password, m_label));
  if (!m_options.schema.empty()) {
    auto set = conn->exec("SELECT set_config('search_path', $1, false)",
                          pg::Params().text(conn->quote_identifier(m_options.schema)));
    if (!set) {
      set.error().message = fmt::format("{}: cannot set the schema: {}", m_label, set.error().message);
      return unexpected(std::move(set).error());
    }
  }
  return conn;
}

Result<PgStore::Lease> PgStore::acquire() {
  {
    std::unique_lock lock(m_mutex);
    m_freed.wait(lock, [&] { return !m_idle.empty() || m_open < k_max_connections; });
    if (!m_idle.empty()) {
      auto conn = std::move(m_idle.back());
      m_idle.pop_back();
      return Lease(*this, std::move(conn));
    }
    ++m_open;
  }
  auto conn = connect();
  if (!conn) {
    std::lock_guard lock(m_mutex);
    --m_open;
    m_freed.notify_one();
    return unexpected(std::move(conn).error());
  }
  return Lease(*this, std::move(conn).value());
}

void PgStore::give_back(std::unique_ptr<pg::Conn> conn) {
  std::lock_guard lock(m_mutex);
  if (conn->broken()) {
    // A lost connection is dropped, and the idle ones with it (a restarted server or a broken network
    // took them too, libpq only notices on use): the next calls connect anew.
    m_open -= 1 + static_cast<int>(m_idle.size());
    m_idle.clear();
  } else {
    m_idle.push_back(std::move(conn));
  }
  m_freed.notify_all();
}

std::string PgStore::actor() const {
  std::lock_guard lock(m_mutex);
  return m_actor;
}

void PgStore::set_actor(const std::string& actor) {
  std::lock_guard lock(m_mutex);
  m_actor = actor;
}

// ---- connections --------------------------------------------------------------------------------

Result<void> PgStore::add_connection(const ConnectionRow& row) {
  return with_conn(fmt::format("add connection '{}'", row.name), [&](pg::Conn& c) -> Result<void> {
    auto done = c.exec(fmt::format("INSERT INTO connections ({}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
                                   k_connection_columns),
                       pg::Params().text(row.name).text(row.account_id).text(row.client_id).bytes(row.secret_blob)
                           .text(row.oauth_url).text(row.api_url).real(row.rate_limit).integer(row.created_at_ms)
                           .integer(row.updated_at_ms).boolean(row.allow_insecure_http));
    if (!done && done.error().kind == ErrorKind::conflict)
      return fail(ErrorKind::conflict, "a connection with that name already exists");
    if (!done) return unexpected(std::move(done).error());
    return {};
  });
}

Result<void> PgStore::update_connection(const ConnectionRow& row) {
  return with_conn(fmt::format("update connection '{}'", row.name), [&](pg::Conn& c) -> Result<void> {
    auto done = H2R_TRY(c.exec(
        "UPDATE connections SET account_id = $2, client_id = $3, secret_blob = $4, oauth_url = $5, api_url = $6, "
        "rate_limit = $7, updated_at_ms = $8, allow_insecure_http = $9 WHERE name = $1",
        pg::Params().text(row.name).text(row.account_id).text(row.client_id).bytes(row.secret_blob)
            .text(row.oauth_url).text(row.api_url).real(row.rate_limit).integer(row.updated_at_ms)
            .boolean(row.allow_insecure_http)));
    if (done.affected() == 0) return fail(ErrorKind::not_found, "no connection has that name");
    return {};
  });
}

Result<void> PgStore::remove_connection(const std::string& name) {
  return with_conn(fmt::format("remove connection '{}'", name), [&](pg::Conn& c) -> Result<void> {
    auto done = H2R_TRY(c.exec("DELETE FROM connections WHERE name = $1", pg::Params().text(name))); // CASCADE
    if (done.affected() == 0) return fail(ErrorKind::not_found, "no connection has that name");
    return {};
  });
}

Result<std::optional<ConnectionRow>> PgStore::get_connection(const std::string& name) {
  return with_conn(fmt::format("read connection '{}'", name), [&](pg::Conn& c) -> Result<std::optional<ConnectionRow>> {
    auto r = H2R_TRY(c.exec(fmt::format("SELECT {} FROM connections WHERE name = $1", k_connection_columns),
                            pg::Params().text(name)));
    if (r.empty()) return std::optional<ConnectionRow>();
    return std::optional<ConnectionRow>(read_connection(r, 0));
  });
}

Result<std::vector<ConnectionRow>> PgStore::list_connections() {
  return with_conn("list connections", [&](pg::Conn& c) -> Result<std::vector<ConnectionRow>> {
    auto r = H2R_TRY(c.exec(fmt::format("SELECT {} FROM connections ORDER BY name COLLATE \"C\"", k_connection_columns)));
    std::vector<ConnectionRow> rows;
    for (int i = 0; i < r.size(); ++i) rows.push_back(read_connection(r, i));
    return rows;
  });
}

Result<void> PgStore::put_connection_health(const ConnectionHealth& h) {
  return with_conn(fmt::format("record the health of connection '{}'", h.name), [&](pg::Conn& c) -> Result<void> {
    auto done = c.exec(
        "INSERT INTO connection_health (name, healthy, last_error, last_error_at_ms, last_success_at_ms, "
        "paused_until_ms, pause_reason) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (name) DO UPDATE SET "
        "healthy = excluded.healthy, last_error = excluded.last_error, last_error_at_ms = excluded.last_error_at_ms, "
        "last_success_at_ms = excluded.last_success_at_ms, paused_until_ms = excluded.paused_until_ms, "
        "pause_reason = excluded.pause_reason",
        pg::Params().text(h.name).boolean(h.healthy).text(h.last_error).integer(h.last_error_at_ms)
            .integer(h.last_success_at_ms).integer(h.paused_until_ms).text(h.pause_reason));
    if (!done && done.error().kind == ErrorKind::not_found) return fail(ErrorKind::not_found, "no connection has that name");
    if (!done) return unexpected(std::move(done).error());
    return {};
  });
}

Result<std::optional<ConnectionHealth>> PgStore::get_connection_health(const std::string& name) {
  return with_conn(fmt::format("read the health of connection '{}'", name),
                   [&](pg::Conn& c) -> Result<std::optional<ConnectionHealth>> {
                     auto r = H2R_TRY(c.exec("SELECT name, healthy, last_error, last_error_at_ms, last_success_at_ms, "
                                             "paused_until_ms, pause_reason FROM connection_health WHERE name = $1",
                                             pg::Params().text(name)));
                     if (r.empty()) return std::optional<ConnectionHealth>();
                     return std::optional<ConnectionHealth>(ConnectionHealth{
                         r.text(0, 0), r.boolean(0, 1), r.text(0, 2), r.integer(0, 3), r.integer(0, 4),
                         r.integer(0, 5), r.text(0, 6)});
                   });
}

// ---- employees and links ------------------------------------------------------------------------

Result<void> PgStore::write_employee(pg::Conn& c, const EmployeeRow& row) {
  nlohmann::json record = nlohmann::json::object();
  for (const auto& [name, value] : row.record) record[name] = value;
  H2R_TRY(c.exec("INSERT INTO employees (employee_id, record, status, updated_at_ms) VALUES ($1,$2,$3,$4) "
                 "ON CONFLICT (employee_id) DO UPDATE SET record = excluded.record, status = excluded.status, "
                 "updated_at_ms = excluded.updated_at_ms",
                 pg::Params().text(row.employee_id)
                     .text(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
                     .text(to_string(row.status)).integer(row.updated_at_ms)));
  return {};
}

Result<void> PgStore::write_link(pg::Conn& c, const LinkRow& row) {
  constexpr auto k_replace = nlohmann::json::error_handler_t::replace;
  pg::Params params;
  params.text(row.connection).text(row.employee_id).text(row.zoom_user_id).text(row.user_name)
      .text(row.pushed_digest).boolean(row.active).integer(row.updated_at_ms);
  if (row.pushed_body.is_null()) params.null();
  else params.text(row.pushed_body.dump(-1, ' ', false, k_replace));
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : row.pushed_groups) groups.push_back({{"name", g.name}, {"id", g.id}});
  params.integer(row.pushed_at_ms).text(groups.dump(-1, ' ', false, k_replace));
  auto done = c.exec(fmt::format("INSERT INTO links ({}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
                                 "ON CONFLICT (connection, employee_id) DO UPDATE SET zoom_user_id = excluded.zoom_user_id, "
                                 "user_name = excluded.user_name, pushed_digest = excluded.pushed_digest, "
                                 "active = excluded.active, updated_at_ms = excluded.updated_at_ms, "
                                 "pushed_body = excluded.pushed_body, pushed_at_ms = excluded.pushed_at_ms, "
                                 "pushed_groups = excluded.pushed_groups",
                                 k_link_columns),
                     params);
  if (!done && done.error().kind == ErrorKind::not_found)
    return fail(ErrorKind::not_found, fmt::format("no connection is named '{}'", row.connection));
  if (!done) return unexpected(std::move(done).error());
  return {};
}

Result<std::optional<EmployeeRow>> PgStore::get_employee(const std::string& employee_id) {
  return with_conn(fmt::format("read employee {}", employee_id), [&](pg::Conn& c) -> Result<std::optional<EmployeeRow>> {
    auto r = H2R_TRY(c.exec("SELECT employee_id, record, status, updated_at_ms FROM employees WHERE employee_id = $1",
                            pg::Params().text(employee_id)));
    if (r.empty()) return std::optional<EmployeeRow>();
    return std::optional<EmployeeRow>(H2R_TRY(read_employee(r, 0)));
  });
}

Result<void> PgStore::put_employee(const EmployeeRow& row) {
  return with_conn(fmt::format("write employee {}", row.employee_id), [&](pg::Conn& c) { return write_employee(c, row); });
}

Result<std::vector<EmployeeRow>> PgStore::list_employees() {
  return with_conn("list employees", [&](pg::Conn& c) -> Result<std::vector<EmployeeRow>> {
    auto r = H2R_TRY(c.exec("SELECT employee_id, record, status, updated_at_ms FROM employees "
                            "ORDER BY employee_id COLLATE \"C\""));
    std::vector<EmployeeRow> rows;
    for (int i = 0; i < r.size(); ++i) rows.push_back(H2R_TRY(read_employee(r, i)));
    return rows;
  });
}

Result<std::optional<LinkRow>> PgStore::get_link(const std::string& connection, const std::string& employee_id) {
  return with_conn(fmt::format("read the link of employee {} in connection '{}'", employee_id, connection),
                   [&](pg::Conn& c) -> Result<std::optional<LinkRow>> {
                     auto r = H2R_TRY(c.exec(fmt::format("SELECT {} FROM links WHERE connection = $1 AND employee_id = $2",
                                                         k_link_columns),
                                             pg::Params().text(connection).text(employee_id)));
                     if (r.empty()) return std::optional<LinkRow>();
                     return std::optional<LinkRow>(H2R_TRY(read_link(r, 0)));
                   });
}

Result<void> PgStore::put_link(const LinkRow& row) {
  return with_conn(fmt::format("write the link of employee {} in connection '{}'", row.employee_id, row.connection),
                   [&](pg::Conn& c) { return write_link(c, row); });
}

Result<std::vector<LinkRow>> PgStore::list_links(const std::string& connection) {
  return with_conn(fmt::format("list the links of connection '{}'", connection), [&](pg::Conn& c) -> Result<std::vector<LinkRow>> {
    auto r = H2R_TRY(c.exec(fmt::format("SELECT {} FROM links WHERE connection = $1 ORDER BY employee_id COLLATE \"C\"",
                                        k_link_columns),
                            pg::Params().text(connection)));
    std::vector<LinkRow> rows;
    for (int i = 0; i < r.size(); ++i) rows.push_back(H2R_TRY(read_link(r, i)));
    return rows;
  });
}

Result<std::set<std::string>> PgStore::seen_fields() {
  return with_conn("list the fields seen", [&](pg::Conn& c) -> Result<std::set<std::string>> {
    auto r = H2R_TRY(c.exec("SELECT name FROM fields_seen"));
    std::set<std::string> names;
    for (int i = 0; i < r.size(); ++i) names.insert(r.text(i, 0));
    return names;
  });
}

// ---- meta ---------------------------------------------------------------------------------------

Result<std::optional<std::string>> PgStore::get_meta(const std::string& key) {
  return with_conn(fmt::format("read meta '{}'", key), [&](pg::Conn& c) -> Result<std::optional<std::string>> {
    auto r = H2R_TRY(c.exec("SELECT value FROM meta WHERE key = $1", pg::Params().text(key)));
    if (r.empty()) return std::optional<std::string>();
    return std::optional<std::string>(r.text(0, 0));
  });
}

Result<void> PgStore::set_meta(const std::string& key, const std::string& value) {
  return with_conn(fmt::format("write meta '{}'", key), [&](pg::Conn& c) -> Result<void> {
    H2R_TRY(c.exec("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   pg::Params().text(key).text(value)));
    return {};
  });
}

} // namespace h2r
