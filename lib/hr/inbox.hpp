// Inbox: the watched folder HR systems drop event files into. Each file is read and validated as a
// stream, its events handed to a sink in chunks inside one ingest session that keeps all of them or
// none, then moved to processed/ (or rejected/ with NAME.error.txt). docs/man/h2r-events.5.
#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"
#include "hr/event.hpp"
#include "hr/readers.hpp"

#include <chrono>
#include <cstdint>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

struct stat;

namespace h2r {
class ReadLease;
}

namespace h2r {

struct InboxOptions {
  std::string dir;                               // the inbox; processed/ and rejected/ live inside it
  std::uint64_t max_file_bytes = 64ull << 20;    // larger files are rejected without being read
  int retention_days = 30;                       // purge_old() deletes older files in processed/, rejected/
  std::chrono::milliseconds rescan_interval{60'000}; // watch(): full rescan this often (retries deferred files)
  // rescan(): a file nobody announced as complete (closed after writing, or renamed in) is taken once
  // its size and mtime have stayed the same this long (by `clock`): a writer may still be appending.
  std::chrono::milliseconds settle{k_default_settle};
  DateReading dates;                             // inbox.date_order, inbox.excel_serial_dates (restart-only)

  static constexpr std::chrono::milliseconds k_default_settle{2'000};
};

// One file's events, stored while the file is read: add() for each chunk (at most
// k_stream_chunk_events records, event_stream.hpp), then commit(). Destroyed without a successful
// commit() it keeps nothing of the file (a file is taken whole or not at all). Errors: kind `invalid`
// rejects the file (message goes to the report), any other leaves the file in the inbox to be tried
// again later. Crash safety: the inbox commits first and moves the file after; if the process dies
// in between, the file is read again on restart and its events come again, so the session must
// de-duplicate by event_id (h2r-events(5): the same event_id again is ignored).
class IngestSession {
public:
  virtual ~IngestSession() = default;
  // The next records of the file, in file order (they may be moved away). For each record whose
  // event_id an earlier record of this same file has, appends duplicate_event_id_problem (the file
  // will be rejected: the inbox then destroys the session without commit()).
  virtual Result<void> add(std::vector<HrEvent>& events, std::vector<FileProblem>& problems) = 0;
  virtual Result<void> commit() = 0;
};

// Opens the session for one file (called once per read of a file).
using IngestSessionSink = std::function<Result<std::unique_ptr<IngestSession>>(const std::string& file_name)>;

// A whole file's events at once, after the whole file was read (errors as IngestSession's). Holds
// every event of a file in memory: for tests and small callers; the daemon uses IngestSessionSink.
using IngestSink = std::function<Result<void>(const std::string& file_name, const std::vector<HrEvent>& events)>;

struct ScanReport {
  int accepted = 0;
  int rejected = 0;
  int deferred = 0;
  int settling = 0; // rescan(): files still changing, or not yet unchanged for the settle interval
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
// Memory: a file is read a block at a time (event_stream.hpp), whatever its size. A JSON file with a
// syntax error, or with more than k_max_records_per_file events, is read once more, a block at a time,
// to word it (scan_json_file). Only a file with another problem about the whole of it (not UTF-8, CSV
// syntax, a bad CSV header, JSON that is not an array of objects) or in UTF-16 is read whole (at most
// max_file_bytes) to report it exactly, or to decode it.
//
// A file that changes while it is read or stored (its size or mtime differs from what was read) is
// neither moved to processed/ nor rejected: it stays and is read again once it settles (its events
// are stored again; the sink ignores the ones it already has). An export with no changes (`[]`, an
// empty NDJSON or CSV file, a header-only CSV) is accepted with 0 events.
//
// Log lines: `inbox.accepted file=… events=N`, `inbox.rejected file=… problems=N first="…"`,
// `inbox.deferred file=… error="…"`, `inbox.purged file=…`, `inbox.error …` (I/O trouble), once
// `inbox.no_lease` (leases refused for permission: the settle rule applies), at debug level
// `inbox.settling file=… bytes=N` each time a rescan sees a file not yet settled. Names, messages and
// problems in log lines and reports go through escape_for_log().
class Inbox {
public:
  Inbox(InboxOptions options, IngestSessionSink sink, const Clock& clock);
  Inbox(InboxOptions options, IngestSink sink, const Clock& clock);

  // Creates dir, dir/processed and dir/rejected (mode 0750 exactly, whatever the umask) when missing.
  // An error (invalid) when one of them exists but is not a directory (processed/ and rejected/ must
  // not be symlinks).
  Result<void> prepare();

  // Takes every eligible file now, in name order. Files the sink deferred stay for the next scan.
  ScanReport scan();

  // Like scan(), but a regular file is taken only once its size and mtime have stayed the same for
  // options.settle (by `clock`); until then it is remembered and counted as settling.
  ScanReport rescan();

  // Takes the files rescan() found settling that have settled since (their folder is not listed again).
  ScanReport take_settled();

  // rescan()s at start, then takes files as they are closed after writing or renamed into the folder
  // (inotify) at once, rescan()s fully on queue overflow and every rescan_interval, takes settling
  // files as they settle, and purges old files hourly.
  // Returns within a fraction of a second once `shutdown` is requested. Falls back to rescans only when
  // inotify is unavailable.
  void watch(Shutdown& shutdown);

  // Deletes files (not directories) in processed/ and rejected/ whose last change is more than
  // retention_days ago by `clock`.
  void purge_old();

  // New limits.max_file_bytes and retention.days (a reload of h2rd.yaml). Thread-safe: the next file
  // read and the next purge use them.
  void set_limits(std::uint64_t max_file_bytes, int retention_days);

  // How many files this process has read whole (a problem about the whole file that one more
  // streaming pass could not word, or UTF-16; see "Memory" above), by every Inbox. For tests.
  static std::uint64_t whole_file_reads();

private:
  enum class Outcome { accepted, rejected, deferred, skipped, settling };
  // How a file looked: what settling compares, and what a read saw.
  struct Look {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t ino = 0;
    std::uint64_t dev = 0;
    bool operator==(const Look&) const = default;
  };
  struct Settling {
    Look look;
    SystemTime since; // when `look` was first seen
  };
  // The inbox folder and processed/ or rejected/ in it, open as directories (-1 and `error` when not).
  struct Folder {
    int inbox = -1;
    int sub = -1;
    std::string error;
    Folder() = default;
    Folder(Folder&& other) noexcept
        : inbox(std::exchange(other.inbox, -1)), sub(std::exchange(other.sub, -1)), error(std::move(other.error)) {}
    Folder& operator=(Folder&&) = delete;
    Folder(const Folder&) = delete;
    Folder& operator=(const Folder&) = delete;
    ~Folder();
  };
  Folder open_folder(const std::string& sub) const;
  // `settled`: the file was announced complete (inotify) or seen unchanged by a rescan.
  Outcome process(const std::string& name, bool settled);
  // inbox_read.cpp: reads the open file `fd` (as fstat saw it: `opened`) into an ingest session,
  // commits it and moves the file. `lease` keeps writers out meanwhile when it is held.
  Outcome read_and_store(const std::string& name, int fd, const struct ::stat& opened, FileFormat format,
                         const ReadLease& lease);
  class FileRead;   // inbox_read.cpp: read_and_store's steps
  // Logs inbox.no_lease the first time a lease is refused for permission (`err`: ReadLease::error()).
  void note_lease_refused(int err);
  Outcome busy(const std::string& name, const Look& look, const char* why);
  Outcome defer(const std::string& name, const std::string& why);
  Outcome changed(const std::string& name, const Look& look, const char* when);
  // True when `name` may be taken by a rescan: not a regular file (process() decides at once), or
  // unchanged for options.settle. Otherwise remembers how it looks now.
  bool settled(const std::string& name);
  // Processes each of `names` that has settled; counts the others as settling.
  ScanReport take_if_settled(const std::vector<std::string>& names);
  void note_changed(const std::string& name, const Look& look);
  static void count(ScanReport& report, Outcome outcome);
  static Look look_of(const struct ::stat& st);
  std::vector<std::string> list_names();
  // rejected when moved to rejected/, deferred when it could not be (it stays in the inbox).
  Outcome reject(const std::string& name, const std::vector<std::string>& problems);
  // Renames dir/name into dir/sub, under a free name; returns that name, empty on failure.
  std::string move_to(const std::string& name, const std::string& sub, bool with_report);
  // processed/moved back to the inbox as `name` (never over another file).
  bool move_back(const std::string& moved, const std::string& name);
  static bool eligible_name(const std::string& name);

  InboxOptions m_options;   // max_file_bytes and retention_days: see the atomics below; the rest never changes
  std::atomic<std::uint64_t> m_max_file_bytes;
  std::atomic<int> m_retention_days;
  IngestSessionSink m_sink;
  const Clock& m_clock;
  std::map<std::string, Settling> m_settling; // by file name
  bool m_lease_refusal_noted = false;
};

} // namespace h2r
