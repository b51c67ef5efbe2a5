// IngestBatchBase: the half of an IngestBatch (lib/store/store.hpp) that is the same for every backend —
// the input check, the counts, telling an inserted event from a duplicate, a repeat or a conflict, the
// field names seen, and the message a failure carries. A backend supplies the statements (the hooks
// below) and its transaction. Not thread-safe, like IngestBatch.
#pragma once

#include "store/duplicate_conflict.hpp"
#include "store/ingest_runs.hpp"
#include "store/store.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace h2r {

class IngestBatchBase : public IngestBatch {
public:
  Result<std::vector<RepeatedEvent>> add(const std::vector<NewEvent>& events) final;
  Result<IngestResult> commit() final;

protected:
  // `where` names the database in errors ("database /var/lib/h2r/h2r.db", "host H port P database D");
  // `base_id` is the highest event id before this ingest (ingests are serialised, so higher ids are its own).
  IngestBatchBase(std::string where, std::string source_file, long long now_ms, long long base_id);

  // A stored event: its id and the content an ingest compares.
  struct StoredEvent {
    long long id = 0;
    StoredEventContent content;
  };

  // Inserts each event with its arrival history row (reason arrived_reason()); per event, in order, its
  // new id, or nullopt when its event_id is stored already (nothing inserted).
  virtual Result<std::vector<std::optional<long long>>> insert_events(const std::vector<NewEvent>& events) = 0;
  // Remembers the field names of one chunk (fields_seen).
  virtual Result<void> note_fields(const std::set<std::string>& names) = 0;
  // The stored event with `event_id`; nullopt when there is none.
  virtual Result<std::optional<StoredEvent>> stored_event(const std::string& event_id) = 0;
  // Notes that `event_id`, stored before this ingest, came in `record` (a private table: memory stays
  // bounded); nullopt the first time, else the record it first came in.
  virtual Result<std::optional<int>> note_known(const std::string& event_id, int record) = 0;
  // Commits the transaction (and frees what the batch holds).
  virtual Result<void> finish() = 0;

  const std::string& source_file() const { return m_source_file; }
  long long now_ms() const { return m_now_ms; }
  const std::string& arrived_reason() const { return m_arrived; }

private:
  Result<std::vector<RepeatedEvent>> insert(const std::vector<NewEvent>& events);
  Result<std::optional<int>> repeat_of(const HrEvent& ev);
  // A failure's message names the database and the file, except `invalid` (about the file's content:
  // its rejection report, said as it is).
  template <class T>
  Result<T> annotated(Result<T> result) const;

  std::string m_where;
  std::string m_source_file;
  long long m_now_ms;
  long long m_base_id;
  std::string m_arrived;  // history reason
  IngestResult m_result;
  IngestRuns m_runs;
  bool m_committed = false;
};

// The error of a begin_ingest that failed, named as IngestBatchBase names its own.
Error ingest_error(Error error, const std::string& where, const std::string& source_file);

} // namespace h2r
