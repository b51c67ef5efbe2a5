// SqliteStore: ingest — one file's events in one transaction, chunk by chunk.
#include "store/sqlite/sqlite_store_impl.hpp"
#include "store/duplicate_conflict.hpp"
#include "store/ingest_runs.hpp"

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

// Holds the store's mutex and an IMMEDIATE transaction from begin_ingest until commit or destruction.
// Which events this ingest inserted is kept as runs of (first id, first record, count): one run for a
// file whose records all arrive in order, so repeats are found without holding every event_id.
class SqliteIngestBatch final : public IngestBatch {
public:
  SqliteIngestBatch(SqliteStore& store, std::unique_lock<std::mutex> lock, sqlite::Transaction tx,
                    std::string source_file, long long now_ms, long long base_id)
      : m_store(store), m_lock(std::move(lock)), m_tx(std::move(tx)), m_source_file(std::move(source_file)),
        m_now_ms(now_ms), m_base_id(base_id), m_arrived("arrived in " + m_source_file) {}

  Result<std::vector<RepeatedEvent>> add(const std::vector<NewEvent>& events) override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) { return insert(events); });
  }

  Result<IngestResult> commit() override {
    return annotated([&]() H2R_REQUIRES(m_store.m_mutex) -> Result<IngestResult> {
      if (m_committed) return fail(ErrorKind::invalid, "this ingest was committed already");
      if (m_known_table) H2R_TRY(m_store.m_db->exec("DROP TABLE temp.ingest_known"));
      H2R_TRY(m_tx.commit());
      m_committed = true;
      m_lock.unlock(); // the store is free again, even while this object lives on
      return m_result;
    });
  }

private:
  template <class Body>
  auto annotated(Body&& body) -> decltype(body()) {
    m_store.m_mutex.assert_held();   // m_lock, until commit
    auto result = body();
    // invalid: about the file's content (its rejection report), said as it is.
    if (!result && result.error().kind != ErrorKind::invalid)
      result.error().message = fmt::format("database {}: cannot store the events of {}: {}", m_store.m_db->path(),
                                           m_source_file, result.error().message);
    return result;
  }

  Result<std::vector<RepeatedEvent>> insert(const std::vector<NewEvent>& events) H2R_REQUIRES(m_store.m_mutex) {
    sqlite::Db& db = *m_store.m_db;
    std::vector<RepeatedEvent> repeated;
    for (const auto& e : events)
      if (e.state != EventState::pending && e.state != EventState::waiting)
        return fail(ErrorKind::invalid, fmt::format("event {} arrives as {}; only pending or waiting may",
                                                    e.event.event_id, to_string(e.state)));
    std::set<std::string> field_names; // of this chunk only
    auto q = H2R_TRY(db.query(k_insert_event));
    auto hq = H2R_TRY(db.query(k_insert_history));
    for (std::size_t i = 0; i < events.size(); ++i) {
      const NewEvent& e = events[i];
      const HrEvent& ev = e.event;
      q.bind_text(1, ev.event_id).bind_text(2, to_string(ev.type));
      if (ev.leave_type) q.bind_text(3, to_string(*ev.leave_type));
      else q.bind_null(3);
      q.bind_text(4, ev.employee_id).bind_text(5, field_patch_json(ev.fields)).bind_text(6, ev.effective_date);
      q.bind_int(7, e.effective_at_ms).bind_int(8, e.due_at_ms).bind_text(9, m_source_file);
      q.bind_text(10, to_string(e.state)).bind_int(11, m_now_ms);
      H2R_TRY(q.run());
      q.reset();
      for (const auto& [name, value] : ev.fields) field_names.insert(name);
      if (db.changes() > 0) {
        const long long id = sqlite3_last_insert_rowid(db.handle());
        m_runs.note(id, ev.record);
        H2R_TRY(hq.bind_int(1, id).bind_int(2, m_now_ms).bind_text(3, to_string(e.state))
                    .bind_text(4, m_store.m_actor).bind_text(5, m_arrived).run());
        hq.reset();
        ++m_result.inserted;
        continue;
      }
      if (auto first = H2R_TRY(repeat_of(ev))) {
        repeated.push_back({i, *first});
        continue;
      }
      ++m_result.duplicate_count;
      if (m_result.duplicates.size() < k_max_duplicates_listed) m_result.duplicates.push_back(ev.event_id);
    }
    auto fq = H2R_TRY(db.query("INSERT OR IGNORE INTO fields_seen (name) VALUES (?1)"));
    for (const auto& name : field_names) {
      H2R_TRY(fq.bind_text(1, name).run());
      fq.reset();
    }
    return repeated;
  }

  // `ev` was not inserted: its event_id is stored. The record of the earlier event of this ingest
  // with it, or nullopt when it was stored before this ingest with the same content (and is not
  // repeated in it); invalid when it was stored before with other content.
  Result<std::optional<int>> repeat_of(const HrEvent& ev) H2R_REQUIRES(m_store.m_mutex) {
    sqlite::Db& db = *m_store.m_db;
    auto q = H2R_TRY(db.query("SELECT id, type, coalesce(leave_type, ''), employee_id, fields, effective_raw, "
                              "source_file FROM events WHERE event_id = ?1"));
    q.bind_text(1, ev.event_id);
    if (!H2R_TRY(q.step())) return fail(ErrorKind::permanent, "event " + ev.event_id + " vanished during ingest");
    const long long id = q.int_at(0);
    if (id > m_base_id) { // inserted by this ingest
      if (auto record = m_runs.record_of(id)) return record;
      return fail(ErrorKind::permanent, "event " + ev.event_id + " has no record in this ingest");
    }
    // Stored before with other content: the file is rejected (store/duplicate_conflict.hpp).
    const StoredEventContent stored{q.text_at(1), q.text_at(2), q.text_at(3), q.text_at(4), q.text_at(5), q.text_at(6)};
    if (auto conflict = duplicate_conflict(stored, ev); !conflict.empty())
      return duplicate_conflict_error(conflict, ev, m_source_file);
    // Stored before: the first time in this ingest is a duplicate, a second time a repeat.
    if (!m_known_table) {
      H2R_TRY(db.exec(k_create_known));
      H2R_TRY(db.exec("DELETE FROM temp.ingest_known"));
      m_known_table = true;
    }
    auto known = H2R_TRY(db.query("INSERT INTO temp.ingest_known (event_id, record) VALUES (?1, ?2) "
                                  "ON CONFLICT (event_id) DO NOTHING"));
    H2R_TRY(known.bind_text(1, ev.event_id).bind_int(2, ev.record).run());
    known.reset();
    if (db.changes() > 0) return std::optional<int>();
    auto first = H2R_TRY(db.query("SELECT record FROM temp.ingest_known WHERE event_id = ?1"));
    first.bind_text(1, ev.event_id);
    if (!H2R_TRY(first.step())) return fail(ErrorKind::permanent, "event " + ev.event_id + " vanished during ingest");
    return std::optional<int>(static_cast<int>(first.int_at(0)));
  }

  SqliteStore& m_store;
  std::unique_lock<std::mutex> m_lock;
  sqlite::Transaction m_tx;
  std::string m_source_file;
  long long m_now_ms;
  long long m_base_id;    // the highest event id before this ingest
  std::string m_arrived;  // history reason
  IngestResult m_result;
  IngestRuns m_runs;
  bool m_known_table = false;
  bool m_committed = false;
};

Result<std::unique_ptr<IngestBatch>> SqliteStore::begin_ingest(const std::string& source_file, long long now_ms) {
  // Held by the batch until its commit or its end, beyond this scope: a std::unique_lock, which the
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
  if (!begun) begun.error().message = fmt::format("database {}: cannot store the events of {}: {}", m_db->path(),
                                                  source_file, begun.error().message);
  return begun;
}

} // namespace h2r
