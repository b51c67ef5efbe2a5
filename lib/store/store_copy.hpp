// copy_store: a whole deployment from one store into another, empty one (h2rd migrate: SQLite →
// PostgreSQL). Only the Store interface: list_* to read, one ImportBatch to write, so the target is
// either left as it was or holds everything.
#pragma once

#include "store/store.hpp"

#include <string>
#include <vector>

namespace h2r {

struct CopyCounts {
  long long connections = 0;
  long long connection_health = 0;
  long long events = 0;
  long long history = 0;        // rows of event history
  long long employees = 0;
  long long links = 0;
  long long seen_fields = 0;
  long long meta = 0;
};

// Meta keys that describe the process that wrote them (its pid, heartbeat, bound metrics address):
// not copied; the daemons on the target write their own.
bool is_process_meta(const std::string& key);

// Copies connections (sealed secrets as they are), their health, every event with every column (ids,
// states, attempts, times; claims cleared), its history, employees, links (pushed_* included), the
// field names seen, and meta (but is_process_meta keys) from `from` into `to`, in one
// to.begin_import() transaction. `to` must hold no event and no connection (conflict otherwise).
// Events are read `page` at a time, so memory stays bounded by the page, not the deployment.
Result<CopyCounts> copy_store(Store& from, Store& to, int page = 500);

// "3 connections (3 with health), 1200 events (3400 history rows), ..." for people.
std::string describe(const CopyCounts& counts);

} // namespace h2r
