// Engine: the inbox's sink — one file's events queued in one store transaction, chunk by chunk.
#include "engine/engine.hpp"

#include "core/text.hpp"
#include "core/time.hpp"
#include "engine/reschedule.hpp"
#include "engine/schedule.hpp"
#include "hr/event_stream.hpp"
#include "hr/readers.hpp"

#include <spdlog/spdlog.h>

#include <optional>

namespace h2r {

namespace {

struct IngestTimes {
  SystemTime now;
  ScheduleOptions schedule;   // time zone, limits.max_future_days, rules' hire_lead_days
};

class EngineIngestSession final : public IngestSession {
public:
  using AfterCommit = std::function<void(const ScheduleOptions& used, const std::string& file_name)>;
  EngineIngestSession(std::unique_ptr<IngestBatch> batch, std::string file_name, IngestTimes times,
                      std::function<void()> on_stored, AfterCommit after_commit)
      : m_batch(std::move(batch)), m_file_name(std::move(file_name)), m_times(std::move(times)),
        m_on_stored(std::move(on_stored)), m_after_commit(std::move(after_commit)) {}

  Result<void> add(std::vector<HrEvent>& events, std::vector<FileProblem>& problems) override {
    m_rows.clear();
    m_rows.reserve(events.size());
    for (auto& e : events) m_rows.push_back(schedule(e));
    const auto repeated = H2R_TRY(m_batch->add(m_rows));
    for (const auto& r : repeated) problems.push_back(duplicate_event_id_problem(m_rows[r.index].event, r.first_record));
    m_rows.clear();
    return {};
  }

  Result<void> commit() override {
    // The first effective date that cannot be stored rejects the file (checked after the reader's own
    // problems, which the inbox reports instead when there are any).
    if (m_date_problem) return fail(ErrorKind::invalid, *m_date_problem);
    auto result = m_batch->commit();
    m_batch.reset();
    if (!result) return unexpected(std::move(result).error());
    for (const auto& id : result->duplicates)
      spdlog::info("event.duplicate event_id=\"{}\" file=\"{}\" action=ignored", escape_for_log(id),
                   escape_for_log(m_file_name));
    if (result->duplicate_count > static_cast<long long>(result->duplicates.size()))
      spdlog::info("event.duplicate file=\"{}\" more={} action=ignored note=\"only the first {} are logged\"",
                   escape_for_log(m_file_name), result->duplicate_count - static_cast<long long>(result->duplicates.size()),
                   result->duplicates.size());
    spdlog::info("inbox.ingested file=\"{}\" events={} duplicates={}", escape_for_log(m_file_name), result->inserted,
                 result->duplicate_count);
    if (m_after_commit) m_after_commit(m_times.schedule, m_file_name);
    if (m_on_stored) m_on_stored();
    return {};
  }

private:
  // The event as the engine schedules it (schedule_event, shared with `h2rd plan`). An unusable date
  // is remembered and the event still stored, to be rolled back, so that repeats after it are found
  // as the reader finds them.
  NewEvent schedule(HrEvent& e) {
    auto row = schedule_event(e, m_times.schedule, m_times.now);
    if (row) return std::move(row).value();
    if (!m_date_problem) m_date_problem = row.error().message;
    const long long now_ms = to_unix_ms(m_times.now);
    return NewEvent{std::move(e), now_ms, now_ms, EventState::pending};
  }

  std::unique_ptr<IngestBatch> m_batch;
  std::string m_file_name;
  IngestTimes m_times;
  std::function<void()> m_on_stored;
  AfterCommit m_after_commit;
  std::vector<NewEvent> m_rows; // one chunk
  std::optional<std::string> m_date_problem;
};

} // namespace

Result<std::unique_ptr<IngestSession>> Engine::begin_ingest(const std::string& file_name,
                                                            std::function<void()> on_stored) {
  IngestTimes times{m_clock.now(), current_schedule()};
  auto batch = H2R_TRY(m_store.begin_ingest(file_name, to_unix_ms(times.now)));
  return std::unique_ptr<IngestSession>(std::make_unique<EngineIngestSession>(
      std::move(batch), file_name, std::move(times), std::move(on_stored),
      [this](const ScheduleOptions& used, const std::string& name) { reschedule_after_ingest(used, name); }));
}

ScheduleOptions Engine::current_schedule() const {
  ScheduleOptions out;
  {
    MutexLock lock(m_options_mutex);   // live config reloads change these (apply_options)
    const EngineOptions& live = m_pending_options ? *m_pending_options : m_options;
    out.time_zone = live.time_zone;
    out.max_future_days = live.max_future_days;
  }
  if (RulesPtr rules = m_rules()) out.hire_lead_days = rules->lifecycle().hire_lead_days;
  return out;
}

void Engine::reschedule_after_ingest(const ScheduleOptions& used, const std::string& file_name) {
  const ScheduleOptions now_in_force = current_schedule();
  const std::string settings = schedule_settings(now_in_force);
  if (schedule_settings(used) == settings) return;
  auto totals = reschedule_waiting(m_store, now_in_force, m_clock.now(), settings);
  if (!totals) {
    spdlog::error("ingest.reschedule_failed file=\"{}\" settings=\"{}\" error=\"{}\" action=\"the file's waiting "
                  "events keep the times of the settings it was read under until the next reload or start\"",
                  escape_for_log(file_name), escape_for_log(settings), escape_for_log(totals.error().message));
    return;
  }
  spdlog::info("ingest.rescheduled file=\"{}\" events={} earlier={} later={} due_now={} settings=\"{}\" was=\"{}\"",
               escape_for_log(file_name), totals->events, totals->earlier, totals->later, totals->due_now,
               escape_for_log(settings), escape_for_log(schedule_settings(used)));
}

Result<void> Engine::ingest(const std::string& file_name, const std::vector<HrEvent>& events) {
  auto session = H2R_TRY(begin_ingest(file_name));
  std::vector<FileProblem> problems;
  for (std::size_t at = 0; at < events.size(); at += k_stream_chunk_events) {
    std::vector<HrEvent> chunk(events.begin() + static_cast<std::ptrdiff_t>(at),
                               events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), at + k_stream_chunk_events)));
    H2R_TRY(session->add(chunk, problems));
  }
  if (!problems.empty()) return fail(ErrorKind::invalid, problems.front().to_string());
  return session->commit();
}

} // namespace h2r
