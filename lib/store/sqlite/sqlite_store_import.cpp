// SqliteStore: moving a deployment — list_meta, and begin_import (a whole deployment into an empty
// store in one transaction, ids and times kept). h2rd migrate reads a SQLite store and imports into a
// PostgreSQL one; the SQLite import lets the copy be tested without a server.
#include "store/sqlite/sqlite_store_impl.hpp"

#include <nlohmann/json.hpp>

namespace h2r {

namespace {

constexpr auto k_replace = nlohmann::json::error_handler_t::replace;

std::string fields_text(const FieldPatch& fields) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [name, value] : fields) json[name] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  return json.dump(-1, ' ', false, k_replace);
}

} // namespace

// Holds the store's mutex and a transaction from begin_import until commit or destruction.
class SqliteImportBatch final : public ImportBatch {
public:
  SqliteImportBatch(SqliteStore& store, std::unique_lock<std::mutex> lock, sqlite::Transaction tx)
      : m_store(store), m_lock(std::move(lock)), m_tx(std::move(tx)) {}

  Result<void> add_connection(const ConnectionRow& row) override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) -> Result<void> {
      auto q = H2R_TRY(db().query(
          "INSERT INTO connections (name, account_id, client_id, secret_blob, oauth_url, api_url, rate_limit, "
          "created_at_ms, updated_at_ms, allow_insecure_http) VALUES (?,?,?,?,?,?,?,?,?,?)"));
      q.bind_text(1, row.name).bind_text(2, row.account_id).bind_text(3, row.client_id);
      q.bind_blob(4, row.secret_blob).bind_text(5, row.oauth_url).bind_text(6, row.api_url);
      q.bind_real(7, row.rate_limit).bind_int(8, row.created_at_ms).bind_int(9, row.updated_at_ms);
      q.bind_int(10, row.allow_insecure_http ? 1 : 0);
      return q.run();
    });
  }

  Result<void> add_connection_health(const ConnectionHealth& health) override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) { return sqlite_write_connection_health(db(), health, false); });
  }

  Result<void> add_events(const std::vector<EventRow>& rows) override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) -> Result<void> {
      auto q = H2R_TRY(db().query(
          "INSERT INTO events (id, event_id, type, leave_type, employee_id, fields, effective_raw, effective_at_ms, "
          "due_at_ms, source_file, state, reason, attempts, approved, rules_version, result, received_at_ms, "
          "updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"));
      for (const auto& e : rows) {
        if (e.id <= 0) return fail(ErrorKind::invalid, fmt::format("event {} has no id", e.event_id));
        q.bind_int(1, e.id).bind_text(2, e.event_id).bind_text(3, to_string(e.type));
        if (e.leave_type) q.bind_text(4, to_string(*e.leave_type));
        else q.bind_null(4);
        q.bind_text(5, e.employee_id).bind_text(6, fields_text(e.fields)).bind_text(7, e.effective_raw);
        q.bind_int(8, e.effective_at_ms).bind_int(9, e.due_at_ms).bind_text(10, e.source_file);
        q.bind_text(11, to_string(e.state)).bind_text(12, e.reason).bind_int(13, e.attempts);
        q.bind_int(14, e.approved ? 1 : 0).bind_text(15, e.rules_version).bind_text(16, e.result);
        q.bind_int(17, e.received_at_ms).bind_int(18, e.updated_at_ms);
        H2R_TRY(q.run());
        q.reset();
      }
      return {};
    });
  }

  Result<void> add_history(const std::vector<EventHistoryRow>& rows) override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) -> Result<void> {
      auto q = H2R_TRY(db().query(
          "INSERT INTO event_history (event, at_ms, from_state, to_state, actor, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
      for (const auto& h : rows) {
        q.bind_int(1, h.event).bind_int(2, h.at_ms);
        if (h.from) q.bind_text(3, to_string(*h.from));
        else q.bind_null(3);
        q.bind_text(4, to_string(h.to)).bind_text(5, h.actor).bind_text(6, h.reason);
        H2R_TRY(q.run());
        q.reset();
      }
      return {};
    });
  }

  Result<void> add_employees(const std::vector<EmployeeRow>& rows) override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) -> Result<void> {
      for (const auto& row : rows) H2R_TRY(m_store.write_employee(row));
      return {};
    });
  }

  Result<void> add_links(const std::vector<LinkRow>& rows) override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) -> Result<void> {
      for (const auto& row : rows) H2R_TRY(m_store.write_link(row, true));
      return {};
    });
  }

  Result<void> add_seen_fields(const std::set<std::string>& names) override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) -> Result<void> {
      auto q = H2R_TRY(db().query("INSERT OR IGNORE INTO fields_seen (name) VALUES (?1)"));
      for (const auto& name : names) {
        H2R_TRY(q.bind_text(1, name).run());
        q.reset();
      }
      return {};
    });
  }

  Result<void> set_meta(const std::string& key, const std::string& value) override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) -> Result<void> {
      auto q = H2R_TRY(db().query("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)"));
      return q.bind_text(1, key).bind_text(2, value).run();
    });
  }

  Result<void> commit() override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) -> Result<void> {
      if (m_committed) return fail(ErrorKind::invalid, "this import was committed already");
      H2R_TRY(m_tx.commit());   // INTEGER PRIMARY KEY: later ids follow max(id) by themselves
      m_committed = true;
      m_lock.unlock();
      return {};
    });
  }

private:
  sqlite::Db& db() H2R_REQUIRES(m_store.m_mutex) { return *m_store.m_db; }

  template <class Body>
  auto annotated(Body&& body) -> decltype(body()) {
    m_store.m_mutex.assert_held();   // m_lock, until commit
    if (m_committed) return fail(ErrorKind::invalid, "this import was committed already");
    auto result = body();
    if (!result) result.error().message = fmt::format("database {}: cannot import: {}", m_store.m_db->path(),
                                                      result.error().message);
    return result;
  }

  SqliteStore& m_store;
  std::unique_lock<std::mutex> m_lock;
  sqlite::Transaction m_tx;
  bool m_committed = false;
};

Result<std::map<std::string, std::string>> SqliteStore::list_meta() {
  return locked("list meta", [&]() H2R_REQUIRES(m_mutex) -> Result<std::map<std::string, std::string>> {
    auto q = H2R_TRY(m_db->query("SELECT key, value FROM meta ORDER BY key"));
    std::map<std::string, std::string> out;
    while (H2R_TRY(q.step())) out[q.text_at(0)] = q.text_at(1);
    return out;
  });
}

Result<std::unique_ptr<ImportBatch>> SqliteStore::begin_import() {
  // Held by the batch until its commit or its end, beyond this scope: a std::unique_lock, which the
  // analysis does not follow, so assert_held() says it (here, and in the batch before each use).
  std::unique_lock<std::mutex> lock(m_mutex.native());
  m_mutex.assert_held();
  auto begun = [&]() H2R_REQUIRES(m_mutex) -> Result<std::unique_ptr<ImportBatch>> {
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    auto q = H2R_TRY(m_db->query("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM connections)"));
    H2R_TRY(q.step());
    const long long events = q.int_at(0);
    const long long connections = q.int_at(1);
    q.reset();
    if (events > 0 || connections > 0)
      return fail(ErrorKind::conflict, fmt::format("it is not empty ({} events, {} connections)", events, connections));
    return std::unique_ptr<ImportBatch>(std::make_unique<SqliteImportBatch>(*this, std::move(lock), std::move(tx)));
  }();
  if (!begun) begun.error().message = fmt::format("database {}: cannot import: {}", m_db->path(), begun.error().message);
  return begun;
}

} // namespace h2r
