#include "store/store_copy.hpp"

#include "store/meta_keys.hpp"

#include <fmt/format.h>


namespace h2r {

bool is_process_meta(const std::string& key) {
  return key == k_meta_daemon_pid || key == k_meta_daemon_heartbeat || key == k_meta_metrics_listen ||
         key == k_meta_logins_reserved;   // the reservations themselves are not copied either
}

Result<CopyCounts> copy_store(Store& from, Store& to, int page) {
  if (page < 1) return fail(ErrorKind::invalid, "copy_store: the page size must be at least 1");
  CopyCounts counts;
  auto batch = H2R_TRY(to.begin_import());

  const auto connections = H2R_TRY(from.list_connections());
  for (const auto& c : connections) {
    H2R_TRY(batch->add_connection(c));
    ++counts.connections;
    if (auto health = H2R_TRY(from.get_connection_health(c.name))) {
      H2R_TRY(batch->add_connection_health(*health));
      ++counts.connection_health;
    }
  }

  const auto employees = H2R_TRY(from.list_employees());
  H2R_TRY(batch->add_employees(employees));
  counts.employees = static_cast<long long>(employees.size());

  // Events newest first, a page at a time; each page's history right after it.
  std::optional<long long> before;
  for (;;) {
    EventFilter filter;
    filter.before_id = before;
    filter.limit = page;
    auto rows = H2R_TRY(from.list_events(filter));
    if (rows.empty()) break;
    std::vector<EventHistoryRow> history;
    for (auto& row : rows) {
      if (before && row.id >= *before)
        return fail(ErrorKind::permanent, "the source store does not page its events (EventFilter::before_id)");
      row.claim_owner.clear();
      row.claim_token.clear();
      row.claimed_at_ms = 0;
      row.lease_until_ms = 0;
      row.rescued_from.clear();
      row.rescues = 0;
      auto rows_of = H2R_TRY(from.event_history(row.id));
      for (auto& h : rows_of) history.push_back(std::move(h));
    }
    before = rows.back().id;
    H2R_TRY(batch->add_events(rows));
    H2R_TRY(batch->add_history(history));
    counts.events += static_cast<long long>(rows.size());
    counts.history += static_cast<long long>(history.size());
    if (static_cast<int>(rows.size()) < page) break;
  }

  for (const auto& c : connections) {
    const auto links = H2R_TRY(from.list_links(c.name));
    H2R_TRY(batch->add_links(links));
    counts.links += static_cast<long long>(links.size());
  }

  const auto fields = H2R_TRY(from.seen_fields());
  H2R_TRY(batch->add_seen_fields(fields));
  counts.seen_fields = static_cast<long long>(fields.size());

  for (const auto& [key, value] : H2R_TRY(from.list_meta())) {
    if (is_process_meta(key)) continue;
    H2R_TRY(batch->set_meta(key, value));
    ++counts.meta;
  }
  H2R_TRY(batch->commit());
  return counts;
}

std::string describe(const CopyCounts& c) {
  return fmt::format("{} connections ({} with health), {} events ({} history rows), {} employees, {} links, "
                     "{} field names seen, {} meta values",
                     c.connections, c.connection_health, c.events, c.history, c.employees, c.links, c.seen_fields,
                     c.meta);
}

} // namespace h2r
