// PgStore: connections, their health, employees, links, the fields seen and meta.
#include "store/pg/pg_store_impl.hpp"

#include "store/employee_columns.hpp"
#include "store/link_columns.hpp"

#include <nlohmann/json.hpp>

#include <map>

namespace h2r {

namespace {

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
  return decode_employee(r.text(i, 0), r.text(i, 1), r.text(i, 2), r.integer(i, 3));
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
  row.pushed_at_ms = r.integer(i, 8);
  std::optional<std::string> pushed_body;   // NULL: unknown
  if (!r.is_null(i, 7)) pushed_body = r.text(i, 7);
  H2R_TRY(decode_link_json(row, pushed_body, r.text(i, 9)));
  row.shared = r.integer(i, 10) != 0;
  return row;
}

} // namespace

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

Result<pg::Rows> pg_write_connection_health(pg::Conn& conn, const ConnectionHealth& h, bool replace) {
  std::string sql =
      "INSERT INTO connection_health (name, healthy, last_error, last_error_at_ms, last_success_at_ms, "
      "paused_until_ms, pause_reason, pause_kind) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)";
  if (replace)
    sql += " ON CONFLICT (name) DO UPDATE SET healthy = excluded.healthy, last_error = excluded.last_error, "
           "last_error_at_ms = excluded.last_error_at_ms, last_success_at_ms = excluded.last_success_at_ms, "
           "paused_until_ms = excluded.paused_until_ms, pause_reason = excluded.pause_reason, "
           "pause_kind = excluded.pause_kind";
  return conn.exec(sql, pg::Params().text(h.name).boolean(h.healthy).text(h.last_error).integer(h.last_error_at_ms)
                            .integer(h.last_success_at_ms).integer(h.paused_until_ms).text(h.pause_reason)
                            .text(to_string(h.pause_kind)));
}

Result<void> PgStore::put_connection_health(const ConnectionHealth& h) {
  return with_conn(fmt::format("record the health of connection '{}'", h.name), [&](pg::Conn& c) -> Result<void> {
    auto done = pg_write_connection_health(c, h, true);
    if (!done && done.error().kind == ErrorKind::not_found) return fail(ErrorKind::not_found, "no connection has that name");
    if (!done) return unexpected(std::move(done).error());
    return {};
  });
}

Result<std::optional<ConnectionHealth>> PgStore::get_connection_health(const std::string& name) {
  return with_conn(fmt::format("read the health of connection '{}'", name),
                   [&](pg::Conn& c) -> Result<std::optional<ConnectionHealth>> {
                     auto r = H2R_TRY(c.exec("SELECT name, healthy, last_error, last_error_at_ms, last_success_at_ms, "
                                             "paused_until_ms, pause_reason, pause_kind FROM connection_health WHERE name = $1",
                                             pg::Params().text(name)));
                     if (r.empty()) return std::optional<ConnectionHealth>();
                     return std::optional<ConnectionHealth>(ConnectionHealth{
                         r.text(0, 0), r.boolean(0, 1), r.text(0, 2), r.integer(0, 3), r.integer(0, 4),
                         r.integer(0, 5), r.text(0, 6), parse_pause_kind(r.text(0, 7))});
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

Result<void> PgStore::write_link(pg::Conn& c, const LinkRow& row, bool importing) {
  constexpr auto k_replace = nlohmann::json::error_handler_t::replace;
  pg::Params params;
  params.text(row.connection).text(row.employee_id).text(row.zoom_user_id).text(row.user_name)
      .text(row.pushed_digest).boolean(row.active).integer(row.updated_at_ms);
  if (row.pushed_body.is_null()) params.null();
  else params.text(row.pushed_body.dump(-1, ' ', false, k_replace));
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : row.pushed_groups) groups.push_back({{"name", g.name}, {"id", g.id}});
  // A new row is marked shared only by an import (h2rd migrate copies a marked pair, each with the
  // next rank); an update keeps the mark while the Zoom user stays the same.
  params.integer(row.pushed_at_ms).text(groups.dump(-1, ' ', false, k_replace)).boolean(importing && row.shared);
  auto done = c.exec(fmt::format("INSERT INTO links ({}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,"
                                 "CASE WHEN $11::boolean THEN 1 + (SELECT count(*) FROM links WHERE connection = $1 "
                                 "AND zoom_user_id = $3) ELSE 0 END) "
                                 "ON CONFLICT (connection, employee_id) DO UPDATE SET zoom_user_id = excluded.zoom_user_id, "
                                 "user_name = excluded.user_name, pushed_digest = excluded.pushed_digest, "
                                 "active = excluded.active, updated_at_ms = excluded.updated_at_ms, "
                                 "pushed_body = excluded.pushed_body, pushed_at_ms = excluded.pushed_at_ms, "
                                 "pushed_groups = excluded.pushed_groups, "
                                 "shared = CASE WHEN links.zoom_user_id = excluded.zoom_user_id THEN links.shared ELSE 0 END",
                                 k_link_columns),
                     params);
  if (!done && done.error().kind == ErrorKind::not_found)
    return fail(ErrorKind::not_found, fmt::format("no connection is named '{}'", row.connection));
  if (!done && done.error().kind == ErrorKind::conflict) return link_taken(row);
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

namespace {

// A PostgreSQL text[] literal of `values`: each element quoted, its quotes and backslashes escaped.
std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const auto& value : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char ch : value) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

} // namespace

Result<std::vector<PlanInputs>> PgStore::plan_inputs(const std::vector<std::string>& employee_ids,
                                                     const std::vector<std::string>& connections) {
  return with_conn(fmt::format("read the employees and links of {} events", employee_ids.size()),
                   [&](pg::Conn& c) -> Result<std::vector<PlanInputs>> {
                     // Two statements for the whole batch, not one per event and connection (a daemon of
                     // hundreds of connections made that many round trips per event), in one snapshot.
                     auto tx = H2R_TRY(pg::Tx::begin(c));
                     H2R_TRY(c.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
                     const std::string ids = text_array(employee_ids);
                     auto employees = H2R_TRY(c.exec("SELECT employee_id, record, status, updated_at_ms FROM employees "
                                                     "WHERE employee_id = ANY($1::text[])",
                                                     pg::Params().text(ids)));
                     auto links = H2R_TRY(c.exec(fmt::format("SELECT {} FROM links WHERE employee_id = ANY($1::text[])",
                                                             k_link_columns),
                                                 pg::Params().text(ids)));
                     H2R_TRY(tx.commit());
                     std::map<std::string, EmployeeRow> by_id;
                     for (int i = 0; i < employees.size(); ++i) {
                       auto row = H2R_TRY(read_employee(employees, i));
                       by_id.emplace(row.employee_id, std::move(row));
                     }
                     std::map<std::string, std::vector<LinkRow>> links_of;
                     for (int i = 0; i < links.size(); ++i) {
                       auto row = H2R_TRY(read_link(links, i));
                       links_of[row.employee_id].push_back(std::move(row));
                     }
                     std::vector<PlanInputs> inputs;
                     inputs.reserve(employee_ids.size());
                     for (const auto& employee_id : employee_ids) {
                       PlanInputs& in = inputs.emplace_back();
                       if (auto e = by_id.find(employee_id); e != by_id.end()) in.employee = e->second;
                       if (auto l = links_of.find(employee_id); l != links_of.end())
                         in.links = links_in_order(l->second, connections);
                     }
                     return inputs;
                   });
}

Result<std::vector<LinkRow>> PgStore::links_to_zoom_user(const std::string& connection, const std::string& zoom_user_id,
                                                        const std::string& user_name) {
  return with_conn(fmt::format("find the links to Zoom user '{}' in connection '{}'", zoom_user_id, connection),
                   [&](pg::Conn& c) -> Result<std::vector<LinkRow>> {
                     // Case aside (lower() also folds non-ASCII letters, where SQLite's NOCASE folds ASCII only).
                     auto r = H2R_TRY(c.exec(
                         fmt::format("SELECT {} FROM links WHERE connection = $1 AND (($2::text <> '' AND zoom_user_id = $2::text) "
                                     "OR ($3::text <> '' AND lower(user_name) = lower($3::text))) "
                                     "ORDER BY employee_id COLLATE \"C\"",
                                     k_link_columns),
                         pg::Params().text(connection).text(zoom_user_id).text(user_name)));
                     std::vector<LinkRow> rows;
                     for (int i = 0; i < r.size(); ++i) rows.push_back(H2R_TRY(read_link(r, i)));
                     return rows;
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

Result<std::string> PgStore::reserve_user_name(const UserNameClaim& claim) {
  return with_conn(fmt::format("reserve userName '{}' for employee {} in connection '{}'", claim.user_name,
                               claim.employee_id, claim.connection),
                   [&](pg::Conn& c) -> Result<std::string> {
                     H2R_TRY(check_user_name_claim(claim));
                     // Two daemons reserving one key: the second INSERT waits for the first transaction,
                     // then updates nothing and reads the winner; its own earlier key comes back with
                     // the rollback.
                     auto tx = H2R_TRY(pg::Tx::begin(c));
                     // One employee's reservations one at a time (a rename racing a create): without it
                     // the second's DELETE misses the first's uncommitted key and its INSERT breaks the
                     // one-key-per-employee index.
                     H2R_TRY(c.exec("SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(1) || $2, 0))",
                                    pg::Params().text(claim.connection).text(claim.employee_id)));
                     H2R_TRY(c.exec("DELETE FROM user_names WHERE connection = $1 AND employee_id = $2 AND name_key <> $3",
                                    pg::Params().text(claim.connection).text(claim.employee_id).text(claim.key)));
                     auto mine = c.exec("INSERT INTO user_names (connection, name_key, user_name, employee_id, at_ms) "
                                        "VALUES ($1, $2, $3, $4, $5::bigint) ON CONFLICT (connection, name_key) DO UPDATE "
                                        "SET user_name = excluded.user_name, at_ms = excluded.at_ms "
                                        "WHERE user_names.employee_id = excluded.employee_id RETURNING employee_id",
                                        pg::Params().text(claim.connection).text(claim.key).text(claim.user_name)
                                            .text(claim.employee_id).integer(claim.now_ms));
                     if (!mine && mine.error().kind == ErrorKind::not_found)
                       return fail(ErrorKind::not_found, fmt::format("no connection is named '{}'", claim.connection));
                     if (!H2R_TRY(std::move(mine)).empty()) {
                       H2R_TRY(tx.commit());
                       return std::string();
                     }
                     auto holder = H2R_TRY(c.exec("SELECT employee_id FROM user_names WHERE connection = $1 AND name_key = $2",
                                                  pg::Params().text(claim.connection).text(claim.key)));
                     if (holder.empty()) return fail(ErrorKind::transient, "the userName reservation vanished");
                     return holder.text(0, 0);
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
