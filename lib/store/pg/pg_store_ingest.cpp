// PgStore: ingest — one file's events in one transaction, chunk by chunk — and queued resyncs.
// Ingests (and resync queueing) are serialised by a transaction-scoped advisory lock: identity values
// are handed out before commit, so without it a later-committed ingest could hold lower event ids than
// one committed before it, and arrival order (ids) would not match commit order.
#include "store/duplicate_conflict.hpp"
#include "store/pg/pg_store_impl.hpp"
#include "store/ingest_runs.hpp"

#include <algorithm>

namespace h2r {

namespace {

constexpr long long k_ingest_lock = 0x6832725f696e6773LL; // "h2r_ings"

// Inserts one event and, when inserted, its arrival history row; returns the new id (no row: the
// event_id is stored already).
constexpr const char* k_insert_event =
    "WITH ins AS (INSERT INTO events (event_id, type, leave_type, employee_id, fields, effective_raw, "
    "  effective_at_ms, due_at_ms, source_file, state, reason, attempts, approved, rules_version, result, "
    "  received_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '', 0, false, '', '', $11, $11) "
    "  ON CONFLICT (event_id) DO NOTHING RETURNING id, state) "
    "INSERT INTO event_history (event, at_ms, from_state, to_state, actor, reason) "
    "SELECT id, $11, NULL, state, $12, $13 FROM ins RETURNING event";

} // namespace

// Holds a pooled connection, its transaction and the ingest lock from begin_ingest until commit or
// destruction. Which events this ingest inserted is kept as runs of (first id, first record, count),
// as the SQLite store does, so repeats are found without holding every event_id.
class PgIngestBatch final : public IngestBatch {
public:
  PgIngestBatch(PgStore& store, PgStore::Lease lease, pg::Tx tx, std::string source_file, long long now_ms,
                long long base_id)
      : m_store(store), m_lease(std::move(lease)), m_tx(std::move(tx)), m_source_file(std::move(source_file)),
        m_now_ms(now_ms), m_base_id(base_id), m_actor(store.actor()), m_arrived("arrived in " + m_source_file) {}

  Result<std::vector<RepeatedEvent>> add(const std::vector<NewEvent>& events) override {
    return annotated([&] { return insert(events); });
  }

  Result<IngestResult> commit() override {
    return annotated([&]() -> Result<IngestResult> {
      if (m_committed) return fail(ErrorKind::invalid, "this ingest was committed already");
      m_committed = true;
      H2R_TRY(m_tx.commit()); // the temp table goes with it (ON COMMIT DROP)
      return m_result;
    });
  }

private:
  template <class Body>
  auto annotated(Body&& body) -> decltype(body()) {
    auto result = body();
    // invalid: about the file's content (its rejection report), said as it is.
    if (!result && result.error().kind != ErrorKind::invalid)
      result.error().message = fmt::format("{}: cannot store the events of {}: {}", m_store.label(), m_source_file,
                                           result.error().message);
    return result;
  }

  Result<std::vector<RepeatedEvent>> insert(const std::vector<NewEvent>& events) {
    if (m_committed) return fail(ErrorKind::invalid, "this ingest was committed already");
    pg::Conn& c = *m_lease;
    std::vector<RepeatedEvent> repeated;
    for (const auto& e : events)
      if (e.state != EventState::pending && e.state != EventState::waiting)
        return fail(ErrorKind::invalid, fmt::format("event {} arrives as {}; only pending or waiting may",
                                                    e.event.event_id, to_string(e.state)));
    std::set<std::string> field_names; // of this chunk only
    std::vector<pg::Params> batch;
    batch.reserve(events.size());
    for (const auto& e : events) {
      const HrEvent& ev = e.event;
      pg::Params& params = batch.emplace_back();
      params.text(ev.event_id).text(to_string(ev.type));
      if (ev.leave_type) params.text(to_string(*ev.leave_type));
      else params.null();
      params.text(ev.employee_id).text(field_patch_json(ev.fields)).text(ev.effective_date).integer(e.effective_at_ms)
          .integer(e.due_at_ms).text(m_source_file).text(to_string(e.state)).integer(m_now_ms).text(m_actor)
          .text(m_arrived);
      for (const auto& [name, value] : ev.fields) field_names.insert(name);
    }
    // Pipelined: the inserts run in order (ids in record order), one round trip per few hundred.
    const auto results = H2R_TRY(c.exec_many(k_insert_event, batch));
    for (std::size_t i = 0; i < events.size(); ++i) {
      const HrEvent& ev = events[i].event;
      if (!results[i].empty()) {
        m_runs.note(results[i].integer(0, 0), ev.record);
        ++m_result.inserted;
        continue;
      }
      if (auto first = H2R_TRY(repeat_of(c, ev))) {
        repeated.push_back({i, *first});
        continue;
      }
      ++m_result.duplicate_count;
      if (m_result.duplicates.size() < k_max_duplicates_listed) m_result.duplicates.push_back(ev.event_id);
    }
    std::vector<pg::Params> names;
    for (const auto& name : field_names) names.push_back(std::move(pg::Params().text(name)));
    H2R_TRY(c.exec_many("INSERT INTO fields_seen (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", names));
    return repeated;
  }

  // `ev` was not inserted: its event_id is stored. The record of the earlier event of this ingest
  // with it, or nullopt when it was stored before this ingest with the same content (and is not
  // repeated in it); invalid when it was stored before with other content.
  Result<std::optional<int>> repeat_of(pg::Conn& c, const HrEvent& ev) {
    auto r = H2R_TRY(c.exec("SELECT id, type, coalesce(leave_type, ''), employee_id, fields, effective_raw, "
                            "source_file FROM events WHERE event_id = $1",
                            pg::Params().text(ev.event_id)));
    if (r.empty()) return fail(ErrorKind::permanent, "event " + ev.event_id + " vanished during ingest");
    const long long id = r.integer(0, 0);
    if (id > m_base_id) { // inserted by this ingest (ingests are serialised)
      if (auto record = m_runs.record_of(id)) return record;
      return fail(ErrorKind::permanent, "event " + ev.event_id + " has no record in this ingest");
    }
    // Stored before with other content: the file is rejected (store/duplicate_conflict.hpp).
    const StoredEventContent stored{r.text(0, 1), r.text(0, 2), r.text(0, 3), r.text(0, 4), r.text(0, 5), r.text(0, 6)};
    if (auto conflict = duplicate_conflict(stored, ev); !conflict.empty())
      return duplicate_conflict_error(conflict, ev, m_source_file);
    // Stored before: the first time in this ingest is a duplicate, a second time a repeat. A temp table
    // (private to this connection, dropped at commit or rollback, spills to disk) keeps memory bounded.
    if (!m_known_table) {
      H2R_TRY(c.exec("CREATE TEMP TABLE ingest_known (event_id TEXT PRIMARY KEY, record INTEGER NOT NULL) "
                     "ON COMMIT DROP"));
      m_known_table = true;
    }
    auto known = H2R_TRY(c.exec("INSERT INTO ingest_known (event_id, record) VALUES ($1, $2) "
                                "ON CONFLICT (event_id) DO NOTHING RETURNING record",
                                pg::Params().text(ev.event_id).integer(ev.record)));
    if (!known.empty()) return std::optional<int>();
    auto first = H2R_TRY(c.exec("SELECT record FROM ingest_known WHERE event_id = $1", pg::Params().text(ev.event_id)));
    if (first.empty()) return fail(ErrorKind::permanent, "event " + ev.event_id + " vanished during ingest");
    return std::optional<int>(static_cast<int>(first.integer(0, 0)));
  }

  PgStore& m_store;
  PgStore::Lease m_lease;  // declared before m_tx: the transaction ends (rollback) before the lease
  pg::Tx m_tx;
  std::string m_source_file;
  long long m_now_ms;
  long long m_base_id;     // the highest event id before this ingest
  std::string m_actor;
  std::string m_arrived;   // history reason
  IngestResult m_result;
  IngestRuns m_runs;
  bool m_known_table = false;
  bool m_committed = false;
};

Result<std::unique_ptr<IngestBatch>> PgStore::begin_ingest(const std::string& source_file, long long now_ms) {
  auto begun = [&]() -> Result<std::unique_ptr<IngestBatch>> {
    auto lease = H2R_TRY(acquire());
    auto tx = H2R_TRY(pg::Tx::begin(*lease));
    H2R_TRY(lease->exec("SELECT pg_advisory_xact_lock($1)", pg::Params().integer(k_ingest_lock)));
    auto r = H2R_TRY(lease->exec("SELECT coalesce(max(id), 0) FROM events"));
    const long long base_id = r.integer(0, 0);
    return std::unique_ptr<IngestBatch>(
        std::make_unique<PgIngestBatch>(*this, std::move(lease), std::move(tx), source_file, now_ms, base_id));
  }();
  if (!begun) begun.error().message = fmt::format("{}: cannot store the events of {}: {}", label(), source_file,
                                                  begun.error().message);
  return begun;
}

Result<IngestResult> PgStore::queue_resyncs(const std::string& source, const std::vector<NewEvent>& events,
                                            long long now_ms) {
  return with_conn("queue resync events", [&](pg::Conn& c) -> Result<IngestResult> {
      H2R_TRY(check_resync_events(events));
      auto tx = H2R_TRY(pg::Tx::begin(c));
      H2R_TRY(c.exec("SELECT pg_advisory_xact_lock($1)", pg::Params().integer(k_ingest_lock)));
      const std::string who = actor();
      const std::string reason = "queued: the rules changed (" + source + ")";
      IngestResult result;
      for (const auto& e : events) {
        auto r = H2R_TRY(c.exec(
            "WITH ins AS (INSERT INTO events (event_id, type, leave_type, employee_id, fields, effective_raw, "
            "  effective_at_ms, due_at_ms, source_file, state, reason, attempts, approved, rules_version, result, "
            "  received_at_ms, updated_at_ms) SELECT $1, 'resync', NULL, $2::text, $3, '', $4, $5, $6, $7, '', 0, "
            "  false, '', '', $8, $8 WHERE NOT EXISTS (SELECT 1 FROM events WHERE employee_id = $2::text "
            "  AND type = 'resync' AND state IN ('pending', 'waiting', 'held')) "
            "  ON CONFLICT (event_id) DO NOTHING RETURNING id, state) "
            "INSERT INTO event_history (event, at_ms, from_state, to_state, actor, reason) "
            "SELECT id, $8, NULL, state, $9, $10 FROM ins RETURNING event",
            pg::Params().text(e.event.event_id).text(e.event.employee_id).text(field_patch_json(e.event.fields))
                .integer(e.effective_at_ms).integer(e.due_at_ms).text(source).text(to_string(e.state))
                .integer(now_ms).text(who).text(reason)));
        if (r.empty()) {
          result.duplicates.push_back(e.event.event_id);
          continue;
        }
        ++result.inserted;
      }
      H2R_TRY(tx.commit());
      return result;
  });
}

} // namespace h2r
