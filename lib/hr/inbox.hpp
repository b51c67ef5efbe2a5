// Inbox: the watched folder HR systems drop event files into. Each file is read, validated and handed
// to a sink whole, then moved to processed/ (or rejected/ with NAME.error.txt). SPEC.md "Event files".
#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"
#include "hr/event.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace h2r {

struct InboxOptions {
  std::string dir;                               // the inbox; processed/ and rejected/ live inside it
  std::uint64_t max_file_bytes = 64ull << 20;    // larger files are rejected without being read
  int retention_days = 30;                       // purge_old() deletes older files in processed/, rejected/
  std::chrono::milliseconds rescan_interval{60'000}; // watch(): full rescan this often (retries deferred files)
};

// Stores one file's events in one transaction. Return an Error of kind `invalid` to reject the file
// (message goes to the report), any other error to leave the file in the inbox and try it again later.
// Crash safety: the inbox calls the sink first and moves the file after; if the process dies in
// between, the file is read again on restart and the sink is called again with the same events, so the
// sink must de-duplicate by event_id (SPEC.md: the same event_id again is ignored).
using IngestSink = std::function<Result<void>(const std::string& file_name, const std::vector<HrEvent>& events)>;

struct ScanReport {
  int accepted = 0;
  int rejected = 0;
  int deferred = 0;
};

// Not thread-safe: one thread calls scan()/watch()/purge_old(). `clock` (wall time) names collision
// suffixes and ages files for purge_old(); it must outlive the Inbox.
//
// Eligible files: entries directly in `dir` whose names do not start with '.' nor end in ".tmp"/".part",
// other than processed/ and rejected/. Sub-directories are ignored (never moved or deleted). Symlinks
// (never followed), FIFOs, sockets and devices, files above max_file_bytes, files of unknown extension
// and files with any bad record are moved to rejected/ (renamed, same filesystem) beside
// rejected/NAME.error.txt. A name already taken in processed/ or rejected/ gets a suffix
// ".YYYYMMDDTHHMMSSZ-N"; nothing is ever overwritten.
//
// Log lines: `inbox.accepted file=… events=N`, `inbox.rejected file=… problems=N first="…"`,
// `inbox.deferred file=… error="…"`, `inbox.purged file=…`, `inbox.error …` (I/O trouble).
class Inbox {
public:
  Inbox(InboxOptions options, IngestSink sink, const Clock& clock);

  // Creates dir, dir/processed and dir/rejected (mode 0750) when missing. An error (invalid) when one
  // of them exists but is not a directory (processed/ and rejected/ must not be symlinks).
  Result<void> prepare();

  // Takes every eligible file now, in name order. Files the sink deferred stay for the next scan.
  ScanReport scan();

  // Scans at start, then takes files as they are closed after writing or renamed into the folder
  // (inotify), rescans fully on queue overflow and every rescan_interval, and purges old files hourly.
  // Returns within a fraction of a second once `shutdown` is requested. Falls back to rescans only when
  // inotify is unavailable.
  void watch(Shutdown& shutdown);

  // Deletes files (not directories) in processed/ and rejected/ whose last change is more than
  // retention_days ago by `clock`.
  void purge_old();

private:
  enum class Outcome { accepted, rejected, deferred, skipped };
  Outcome process(const std::string& name);
  void reject(const std::string& name, const std::vector<std::string>& problems);
  // Renames dir/name into dir/sub, under a free name; returns that name, empty on failure.
  std::string move_to(const std::string& name, const std::string& sub, bool with_report);
  static bool eligible_name(const std::string& name);

  InboxOptions m_options;
  IngestSink m_sink;
  const Clock& m_clock;
};

} // namespace h2r
