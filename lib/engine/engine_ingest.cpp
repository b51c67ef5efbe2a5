// Engine: the inbox's sink — one file's events queued in one store transaction, chunk by chunk.
#include "engine/engine.hpp"

#include "core/text.hpp"
#include "core/time.hpp"
#include "hr/event_stream.hpp"
#include "hr/readers.hpp"

#include <spdlog/spdlog.h>

#include <optional>

namespace h2r {

namespace {

struct IngestTimes {
  SystemTime now;
  int lead_days = 0;          // rules' hire_lead_days
  std::string time_zone;
  int max_future_days = 0;
};

class EngineIngestSession final : public IngestSession {
public:
  EngineIngestSession(std::unique_ptr<IngestBatch> batch, std::string file_name, IngestTimes times,
                      std::function<void()> on_stored)
      : m_batch(std::move(batch)), m_file_name(std::move(file_name)), m_times(std::move(times)),
        m_on_stored(std::move(on_stored)) {}

  Result<void> add(std::vector<HrEvent>& events, std::vector<FileProblem>& problems) override {
    m_rows.clear();
    m_rows.reserve(events.size());
    for (auto& e : events) {
      const auto [effective, due] = resolve(e);
      m_rows.push_back(NewEvent{std::move(e), to_unix_ms(effective), to_unix_ms(due),
                                due > m_times.now ? EventState::waiting : EventState::pending});
    }
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
    if (m_on_stored) m_on_stored();
    return {};
  }

private:
  // When the event takes effect and when it is due; an unusable date is remembered (the event is
  // still stored, to be rolled back, so that repeats after it are found as the reader finds them).
  std::pair<SystemTime, SystemTime> resolve(const HrEvent& e) {
    SystemTime effective = m_times.now;
    if (!e.effective_date.empty()) {
      auto parsed = parse_effective_date(e.effective_date, m_times.time_zone);
      Result<void> window =
          parsed ? check_effective_window(*parsed, m_times.now, m_times.max_future_days) : Result<void>{};
      if (!parsed || !window) {
        if (!m_date_problem) {
          const std::string why = !parsed ? parsed.error().message
                                          : "'" + e.effective_date + "' " + window.error().message; // validated shape: safe to echo
          m_date_problem = FileProblem{e.record, e.line, "effective_date", why}.to_string();
        }
      } else {
        effective = *parsed;
      }
    }
    SystemTime due = effective;
    if (e.type == EventType::hire && m_times.lead_days > 0)
      due = minus_days_in_zone(effective, m_times.lead_days, m_times.time_zone);
    return {effective, due};
  }

  std::unique_ptr<IngestBatch> m_batch;
  std::string m_file_name;
  IngestTimes m_times;
  std::function<void()> m_on_stored;
  std::vector<NewEvent> m_rows; // one chunk
  std::optional<std::string> m_date_problem;
};

} // namespace

Result<std::unique_ptr<IngestSession>> Engine::begin_ingest(const std::string& file_name,
                                                            std::function<void()> on_stored) {
  IngestTimes times{m_clock.now(), 0, m_options.time_zone, m_options.max_future_days};
  if (RulesPtr rules = m_rules()) times.lead_days = rules->lifecycle().hire_lead_days;
  auto batch = H2R_TRY(m_store.begin_ingest(file_name, to_unix_ms(times.now)));
  return std::unique_ptr<IngestSession>(
      std::make_unique<EngineIngestSession>(std::move(batch), file_name, std::move(times), std::move(on_stored)));
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
