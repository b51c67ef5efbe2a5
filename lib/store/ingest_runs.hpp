// Which events one ingest inserted, kept as runs of (first id, first record, count): a file whose
// records all arrive in order is one run, so a repeat of an event_id is traced to its first record
// without holding every event_id. Shared by the SQLite and PostgreSQL ingests.
#pragma once

#include <algorithm>
#include <iterator>
#include <optional>
#include <vector>

namespace h2r {

class IngestRuns {
public:
  // Event `id` (ids only grow within an ingest) was inserted from record `record`.
  void note(long long id, int record) {
    if (!m_runs.empty()) {
      Run& last = m_runs.back();
      if (last.first_id + last.count == id && last.first_record + last.count == record) {
        ++last.count;
        return;
      }
    }
    m_runs.push_back({id, record, 1});
  }

  // The record event `id` was inserted from, if this ingest inserted it.
  std::optional<int> record_of(long long id) const {
    auto run = std::upper_bound(m_runs.begin(), m_runs.end(), id,
                                [](long long value, const Run& r) { return value < r.first_id; });
    if (run == m_runs.begin()) return std::nullopt;
    const Run& r = *std::prev(run);
    if (id >= r.first_id + r.count) return std::nullopt;
    return r.first_record + static_cast<int>(id - r.first_id);
  }

private:
  struct Run {
    long long first_id = 0;
    int first_record = 0;
    int count = 0;
  };
  std::vector<Run> m_runs;
};

} // namespace h2r
