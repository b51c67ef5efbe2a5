// PgStore: ingest — one file's events in one transaction, chunk by chunk — and queued resyncs.
// Ingests (and resync queueing) are serialised by a transaction-scoped advisory lock: identity values
// are handed out before commit, so without it a later-committed ingest could hold lower event ids than
// one committed before it, and arrival order (ids) would not match commit order.
#include "store/ingest_batch_base.hpp"
#include "store/pg/pg_store_impl.hpp"

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
// destruction; what is the same for every backend is IngestBatchBase's.
class PgIngestBatch final : public IngestBatchBase {
public:
  PgIngestBatch(PgStore& store, PgStore::Lease lease, pg::Tx tx, std::string source_file, long long now_ms,
                long long base_id)
      : IngestBatchBase(store.label(), std::move(source_file), now_ms, base_id), m_lease(std::move(lease)),
        m_tx(std::move(tx)), m_actor(store.actor()) {}

private:
  Result<std::vector<std::optional<long long>>> insert_events(const std::vector<NewEvent>& events) override {
    std::vector<pg::Params> batch;
    batch.reserve(events.size());
    for (const auto& e : events) {
      const HrEvent& ev = e.event;
      pg::Params& params = batch.emplace_back();
      params.text(ev.event_id).text(to_string(ev.type));
      if (ev.leave_type) params.text(to_string(*ev.leave_type));
      else params.null();
      params.text(ev.employee_id).text(field_patch_json(ev.fields)).text(ev.effective_date).integer(e.effective_at_ms)
          .integer(e.due_at_ms).text(source_file()).text(to_string(e.state)).integer(now_ms()).text(m_actor)
          .text(arrived_reason());
    }
    // Pipelined: the inserts run in order (ids in record order), one round trip per few hundred.
    const auto results = H2R_TRY(m_lease->exec_many(k_insert_event, batch));
    std::vector<std::optional<long long>> ids;
    ids.reserve(results.size());
    for (const auto& r : results) ids.push_back(r.empty() ? std::nullopt : std::optional<long long>(r.integer(0, 0)));
    return ids;
  }

  Result<void> note_fields(const std::set<std::string>& field_names) override {
    std::vector<pg::Params> names;
    for (const auto& name : field_names) names.push_back(std::move(pg::Params().text(name)));
    H2R_TRY(m_lease->exec_many("INSERT INTO fields_seen (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", names));
    return {};
  }

  Result<std::optional<StoredEvent>> stored_event(const std::string& event_id) override {
    auto r = H2R_TRY(m_lease->exec("SELECT id, type, coalesce(leave_type, ''), employee_id, fields, effective_raw, "
                                   "source_file FROM events WHERE event_id = $1",
                                   pg::Params().text(event_id)));
    if (r.empty()) return std::optional<StoredEvent>();
    return std::optional<StoredEvent>(StoredEvent{
        r.integer(0, 0), {r.text(0, 1), r.text(0, 2), r.text(0, 3), r.text(0, 4), r.text(0, 5), r.text(0, 6)}});
  }

  // A temp table (private to this connection, dropped at commit or rollback, spills to disk).
  Result<std::optional<int>> note_known(const std::string& event_id, int record) override {
    pg::Conn& c = *m_lease;
    if (!m_known_table) {
      H2R_TRY(c.exec("CREATE TEMP TABLE ingest_known (event_id TEXT PRIMARY KEY, record INTEGER NOT NULL) "
                     "ON COMMIT DROP"));
      m_known_table = true;
    }
    auto known = H2R_TRY(c.exec("INSERT INTO ingest_known (event_id, record) VALUES ($1, $2) "
                                "ON CONFLICT (event_id) DO NOTHING RETURNING record",
                                pg::Params().text(event_id).integer(record)));
    if (!known.empty()) return std::optional<int>();
    auto first = H2R_TRY(c.exec("SELECT record FROM ingest_known WHERE event_id = $1", pg::Params().text(event_id)));
    if (first.empty()) return fail(ErrorKind::permanent, "event " + event_id + " vanished during ingest");
    return std::optional<int>(static_cast<int>(first.integer(0, 0)));
  }

  Result<void> finish() override { return m_tx.commit(); } // the temp table goes with it (ON COMMIT DROP)

  PgStore::Lease m_lease;  // declared before m_tx: the transaction ends (rollback) before the lease
  pg::Tx m_tx;
  std::string m_actor;
  bool m_known_table = false;
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
  if (!begun) return unexpected(ingest_error(std::move(begun).error(), label(), source_file));
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
