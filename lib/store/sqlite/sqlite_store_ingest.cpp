// SqliteStore: ingest — one file's events in one transaction, chunk by chunk.
#include "store/sqlite/sqlite_store_impl.hpp"
#include "store/ingest_batch_base.hpp"

#include <sqlite3.h>

#include <algorithm>

namespace h2r {

namespace {

constexpr const char* k_insert_event =
    "INSERT INTO events (event_id, type, leave_type, employee_id, fields, effective_raw, effective_at_ms, "
    "due_at_ms, source_file, state, reason, attempts, approved, rules_version, result, received_at_ms, "
    "updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, '', 0, 0, '', '', ?11, ?11) "
    "ON CONFLICT (event_id) DO NOTHING";
constexpr const char* k_insert_history =
    "INSERT INTO event_history (event, at_ms, from_state, to_state, actor, reason) VALUES (?1, ?2, NULL, ?3, ?4, ?5)";
// The event_ids of this ingest that were stored before it: a second one in the same file is a repeat
// (a TEMP table: private to this connection, rolled back with the ingest, pages spill to a file).
constexpr const char* k_create_known =
    "CREATE TEMP TABLE IF NOT EXISTS ingest_known (event_id TEXT PRIMARY KEY, record INTEGER NOT NULL) WITHOUT ROWID";

} // namespace

// Holds the store's mutex and an IMMEDIATE transaction from begin_ingest until commit or destruction;
// what is the same for every backend is IngestBatchBase's.
class SqliteIngestBatch final : public IngestBatchBase {
public:
  SqliteIngestBatch(SqliteStore& store, std::unique_lock<std::mutex> lock, sqlite::Transaction tx,
                    std::string source_file, long long now_ms, long long base_id) H2R_REQUIRES(store.m_mutex)
      : IngestBatchBase("database " + store.m_db->path(), std::move(source_file), now_ms, base_id), m_store(store),
        m_lock(std::move(lock)), m_tx(std::move(tx)) {}

private:
  Result<std::vector<std::optional<long long>>> insert_events(const std::vector<NewEvent>& events) override {
    m_store.m_mutex.assert_held();   // m_lock, until finish()
    sqlite::Db& db = *m_store.m_db;
    auto q = H2R_TRY(db.query(k_insert_event));
    auto hq = H2R_TRY(db.query(k_insert_history));
    std::vector<std::optional<long long>> ids;
    ids.reserve(events.size());
    for (const auto& e : events) {
      const HrEvent& ev = e.event;
      q.bind_text(1, ev.event_id).bind_text(2, to_string(ev.type));
      if (ev.leave_type) q.bind_text(3, to_string(*ev.leave_type));
      else q.bind_null(3);
      q.bind_text(4, ev.employee_id).bind_text(5, field_patch_json(ev.fields)).bind_text(6, ev.effective_date);
      q.bind_int(7, e.effective_at_ms).bind_int(8, e.due_at_ms).bind_text(9, source_file());
      q.bind_text(10, to_string(e.state)).bind_int(11, now_ms());
      H2R_TRY(q.run());
      q.reset();
      if (db.changes() == 0) {
        ids.emplace_back();
        continue;
      }
      const long long id = sqlite3_last_insert_rowid(db.handle());
      H2R_TRY(hq.bind_int(1, id).bind_int(2, now_ms()).bind_text(3, to_string(e.state))
                  .bind_text(4, m_store.m_actor).bind_text(5, arrived_reason()).run());
      hq.reset();
      ids.emplace_back(id);
    }
    return ids;
  }

  Result<void> note_fields(const std::set<std::string>& field_names) override {
    m_store.m_mutex.assert_held();   // m_lock, until finish()
    auto fq = H2R_TRY(m_store.m_db->query("INSERT OR IGNORE INTO fields_seen (name) VALUES (?1)"));
    for (const auto& name : field_names) {
      H2R_TRY(fq.bind_text(1, name).run());
      fq.reset();
    }
    return {};
  }

  Result<std::optional<StoredEvent>> stored_event(const std::string& event_id) override {
    m_store.m_mutex.assert_held();   // m_lock, until finish()
    auto q = H2R_TRY(m_store.m_db->query("SELECT id, type, coalesce(leave_type, ''), employee_id, fields, "
                                         "effective_raw, source_file FROM events WHERE event_id = ?1"));
    q.bind_text(1, event_id);
    if (!H2R_TRY(q.step())) return std::optional<StoredEvent>();
    return std::optional<StoredEvent>(StoredEvent{
        q.int_at(0), {q.text_at(1), q.text_at(2), q.text_at(3), q.text_at(4), q.text_at(5), q.text_at(6)}});
  }

  Result<std::optional<int>> note_known(const std::string& event_id, int record) override {
    m_store.m_mutex.assert_held();   // m_lock, until finish()
    sqlite::Db& db = *m_store.m_db;
    if (!m_known_table) {
      H2R_TRY(db.exec(k_create_known));
      H2R_TRY(db.exec("DELETE FROM temp.ingest_known"));
      m_known_table = true;
    }
    auto known = H2R_TRY(db.query("INSERT INTO temp.ingest_known (event_id, record) VALUES (?1, ?2) "
                                  "ON CONFLICT (event_id) DO NOTHING"));
    H2R_TRY(known.bind_text(1, event_id).bind_int(2, record).run());
    known.reset();
    if (db.changes() > 0) return std::optional<int>();
    auto first = H2R_TRY(db.query("SELECT record FROM temp.ingest_known WHERE event_id = ?1"));
    first.bind_text(1, event_id);
    if (!H2R_TRY(first.step())) return fail(ErrorKind::permanent, "event " + event_id + " vanished during ingest");
    return std::optional<int>(static_cast<int>(first.int_at(0)));
  }

  Result<void> finish() override {
    m_store.m_mutex.assert_held();   // m_lock, until finish()
    if (m_known_table) H2R_TRY(m_store.m_db->exec("DROP TABLE temp.ingest_known"));
    H2R_TRY(m_tx.commit());
    m_lock.unlock(); // the store is free again, even while this object lives on
    return {};
  }

  SqliteStore& m_store;
  std::unique_lock<std::mutex> m_lock;
  sqlite::Transaction m_tx;
  bool m_known_table = false;
};

Result<std::unique_ptr<IngestBatch>> SqliteStore::begin_ingest(const std::string& source_file, long long now_ms) {
  // Held by the batch until its finish or its end, beyond this scope: a std::unique_lock, which the
  // analysis does not follow, so assert_held() says it (here, and in the batch before each use).
  std::unique_lock<std::mutex> lock(m_mutex.native());
  m_mutex.assert_held();
  auto begun = [&]() H2R_REQUIRES(m_mutex) -> Result<std::unique_ptr<IngestBatch>> {
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    auto q = H2R_TRY(m_db->query("SELECT coalesce(max(id), 0) FROM events"));
    H2R_TRY(q.step());
    const long long base_id = q.int_at(0);
    q.reset();
    return std::unique_ptr<IngestBatch>(
        std::make_unique<SqliteIngestBatch>(*this, std::move(lock), std::move(tx), source_file, now_ms, base_id));
  }();
  if (!begun) return unexpected(ingest_error(std::move(begun).error(), "database " + m_db->path(), source_file));
  return begun;
}

} // namespace h2r
