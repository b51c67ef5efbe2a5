#include "store/ingest_batch_base.hpp"

#include <fmt/format.h>

namespace h2r {

Error ingest_error(Error error, const std::string& where, const std::string& source_file) {
  error.message = fmt::format("{}: cannot store the events of {}: {}", where, source_file, error.message);
  return error;
}

IngestBatchBase::IngestBatchBase(std::string where, std::string source_file, long long now_ms, long long base_id)
    : m_where(std::move(where)), m_source_file(std::move(source_file)), m_now_ms(now_ms), m_base_id(base_id),
      m_arrived("arrived in " + m_source_file) {}

template <class T>
Result<T> IngestBatchBase::annotated(Result<T> result) const {
  if (!result && result.error().kind != ErrorKind::invalid)
    return unexpected(ingest_error(std::move(result).error(), m_where, m_source_file));
  return result;
}

Result<std::vector<RepeatedEvent>> IngestBatchBase::add(const std::vector<NewEvent>& events) {
  return annotated(insert(events));
}

Result<IngestResult> IngestBatchBase::commit() {
  if (m_committed) return fail(ErrorKind::invalid, "this ingest was committed already");
  m_committed = true;
  auto done = finish();
  if (!done) return annotated(Result<IngestResult>(unexpected(std::move(done).error())));
  return m_result;
}

Result<std::vector<RepeatedEvent>> IngestBatchBase::insert(const std::vector<NewEvent>& events) {
  if (m_committed) return fail(ErrorKind::invalid, "this ingest was committed already");
  for (const auto& e : events)
    if (e.state != EventState::pending && e.state != EventState::waiting)
      return fail(ErrorKind::invalid, fmt::format("event {} arrives as {}; only pending or waiting may",
                                                  e.event.event_id, to_string(e.state)));
  const auto ids = H2R_TRY(insert_events(events));
  std::vector<RepeatedEvent> repeated;
  std::set<std::string> field_names; // of this chunk only
  for (std::size_t i = 0; i < events.size(); ++i) {
    const HrEvent& ev = events[i].event;
    for (const auto& [name, value] : ev.fields) field_names.insert(name);
    if (ids[i]) {
      m_runs.note(*ids[i], ev.record);
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
  H2R_TRY(note_fields(field_names));
  return repeated;
}

// `ev` was not inserted: its event_id is stored. The record of the earlier event of this ingest with it,
// or nullopt when it was stored before this ingest with the same content (and is not repeated in it);
// invalid when it was stored before with other content.
Result<std::optional<int>> IngestBatchBase::repeat_of(const HrEvent& ev) {
  auto stored = H2R_TRY(stored_event(ev.event_id));
  if (!stored) return fail(ErrorKind::permanent, "event " + ev.event_id + " vanished during ingest");
  if (stored->id > m_base_id) { // inserted by this ingest
    if (auto record = m_runs.record_of(stored->id)) return record;
    return fail(ErrorKind::permanent, "event " + ev.event_id + " has no record in this ingest");
  }
  // Stored before with other content: the file is rejected (store/duplicate_conflict.hpp).
  if (auto conflict = duplicate_conflict(stored->content, ev); !conflict.empty())
    return duplicate_conflict_error(conflict, ev, m_source_file);
  // Stored before: the first time in this ingest is a duplicate, a second time a repeat.
  return note_known(ev.event_id, ev.record);
}

} // namespace h2r
