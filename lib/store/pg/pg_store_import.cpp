// PgStore: moving a deployment in — list_meta, and begin_import (h2rd migrate: a whole SQLite
// deployment into an empty PostgreSQL database in one transaction, ids and times kept). Written on
// the pgops branch beside the store's own files; the PostgreSQL store's owner may fold it in.
#include "store/pg/pg_store_impl.hpp"

#include <nlohmann/json.hpp>

namespace h2r {

namespace {

// The ingest lock of pg_store_ingest.cpp ("h2r_ings"): no ingest runs while an import does.
constexpr long long k_import_ingest_lock = 0x6832725f696e6773LL;

} // namespace

// Holds a pooled connection and its transaction from begin_import until commit or destruction.
class PgImportBatch final : public ImportBatch {
public:
  PgImportBatch(PgStore& store, PgStore::Lease lease, pg::Tx tx)
      : m_store(store), m_lease(std::move(lease)), m_tx(std::move(tx)) {}

  Result<void> add_connection(const ConnectionRow& row) override {
    return annotated([&]() -> Result<void> {
      pg::Params p;
      p.text(row.name).text(row.account_id).text(row.client_id).bytes(row.secret_blob).text(row.oauth_url)
          .text(row.api_url).real(row.rate_limit).integer(row.created_at_ms).integer(row.updated_at_ms)
          .boolean(row.allow_insecure_http);
      H2R_TRY(conn().exec("INSERT INTO connections (name, account_id, client_id, secret_blob, oauth_url, api_url, "
                          "rate_limit, created_at_ms, updated_at_ms, allow_insecure_http) "
                          "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)", p));
      return {};
    });
  }

  Result<void> add_connection_health(const ConnectionHealth& h) override {
    return annotated([&]() -> Result<void> {
      H2R_TRY(pg_write_connection_health(conn(), h, false));
      return {};
    });
  }

  Result<void> add_events(const std::vector<EventRow>& rows) override {
    return annotated([&]() -> Result<void> {
      for (const auto& e : rows) {
        if (e.id <= 0) return fail(ErrorKind::invalid, fmt::format("event {} has no id", e.event_id));
        pg::Params p;
        p.integer(e.id).text(e.event_id).text(to_string(e.type));
        if (e.leave_type) p.text(to_string(*e.leave_type));
        else p.null();
        p.text(e.employee_id).text(field_patch_json(e.fields)).text(e.effective_raw).integer(e.effective_at_ms)
            .integer(e.due_at_ms).text(e.source_file).text(to_string(e.state)).text(e.reason).integer(e.attempts)
            .boolean(e.approved).text(e.rules_version).text(e.result).integer(e.received_at_ms)
            .integer(e.updated_at_ms);
        H2R_TRY(conn().exec(
            "INSERT INTO events (id, event_id, type, leave_type, employee_id, fields, effective_raw, effective_at_ms, "
            "due_at_ms, source_file, state, reason, attempts, approved, rules_version, result, received_at_ms, "
            "updated_at_ms) OVERRIDING SYSTEM VALUE "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)", p));
      }
      return {};
    });
  }

  Result<void> add_history(const std::vector<EventHistoryRow>& rows) override {
    return annotated([&]() -> Result<void> {
      for (const auto& h : rows) {
        pg::Params p;
        p.integer(h.event).integer(h.at_ms);
        if (h.from) p.text(to_string(*h.from));
        else p.null();
        p.text(to_string(h.to)).text(h.actor).text(h.reason);
        H2R_TRY(conn().exec("INSERT INTO event_history (event, at_ms, from_state, to_state, actor, reason) "
                            "VALUES ($1,$2,$3,$4,$5,$6)", p));
      }
      return {};
    });
  }

  Result<void> add_employees(const std::vector<EmployeeRow>& rows) override {
    return annotated([&]() -> Result<void> {
      for (const auto& row : rows) H2R_TRY(m_store.write_employee(conn(), row));
      return {};
    });
  }

  Result<void> add_links(const std::vector<LinkRow>& rows) override {
    return annotated([&]() -> Result<void> {
      for (const auto& row : rows) H2R_TRY(m_store.write_link(conn(), row, true));
      return {};
    });
  }

  Result<void> add_seen_fields(const std::set<std::string>& names) override {
    return annotated([&]() -> Result<void> {
      for (const auto& name : names)
        H2R_TRY(conn().exec("INSERT INTO fields_seen (name) VALUES ($1) ON CONFLICT DO NOTHING", pg::Params().text(name)));
      return {};
    });
  }

  Result<void> set_meta(const std::string& key, const std::string& value) override {
    return annotated([&]() -> Result<void> {
      H2R_TRY(conn().exec("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2",
                          pg::Params().text(key).text(value)));
      return {};
    });
  }

  Result<void> commit() override {
    return annotated([&]() -> Result<void> {
      // Identity values go on after the largest imported id (is_called false: the next is exactly 1
      // when nothing was imported).
      H2R_TRY(conn().exec("SELECT setval(pg_get_serial_sequence('events', 'id'), "
                          "(SELECT coalesce(max(id), 1) FROM events), (SELECT count(*) > 0 FROM events))"));
      H2R_TRY(m_tx.commit());
      m_committed = true;
      return {};
    });
  }

private:
  pg::Conn& conn() { return *m_lease; }

  template <class Body>
  auto annotated(Body&& body) -> decltype(body()) {
    if (m_committed) return fail(ErrorKind::invalid, "this import was committed already");
    auto result = body();
    if (!result) result.error().message = fmt::format("{}: cannot import: {}", m_store.label(), result.error().message);
    return result;
  }

  PgStore& m_store;
  PgStore::Lease m_lease;  // declared before m_tx: the transaction ends (rollback) before the lease
  pg::Tx m_tx;
  bool m_committed = false;
};

Result<std::map<std::string, std::string>> PgStore::list_meta() {
  return with_conn("list meta", [&](pg::Conn& c) -> Result<std::map<std::string, std::string>> {
    auto rows = H2R_TRY(c.exec("SELECT key, value FROM meta ORDER BY key"));
    std::map<std::string, std::string> out;
    for (int i = 0; i < rows.size(); ++i) out[rows.text(i, 0)] = rows.text(i, 1);
    return out;
  });
}

Result<std::unique_ptr<ImportBatch>> PgStore::begin_import() {
  auto begun = [&]() -> Result<std::unique_ptr<ImportBatch>> {
    auto lease = H2R_TRY(acquire());
    auto tx = H2R_TRY(pg::Tx::begin(*lease));
    H2R_TRY(lease->exec("SELECT pg_advisory_xact_lock($1)", pg::Params().integer(k_import_ingest_lock)));
    // No other writer adds an event or a connection until the import ends.
    H2R_TRY(lease->exec("LOCK TABLE connections, events IN SHARE ROW EXCLUSIVE MODE"));
    auto r = H2R_TRY(lease->exec("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM connections)"));
    const long long events = r.integer(0, 0);
    const long long connections = r.integer(0, 1);
    if (events > 0 || connections > 0)
      return fail(ErrorKind::conflict, fmt::format("it is not empty ({} events, {} connections)", events, connections));
    return std::unique_ptr<ImportBatch>(std::make_unique<PgImportBatch>(*this, std::move(lease), std::move(tx)));
  }();
  if (!begun) begun.error().message = fmt::format("{}: cannot import: {}", label(), begun.error().message);
  return begun;
}

} // namespace h2r
