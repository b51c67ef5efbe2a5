// Inbox: reading one open file into an ingest session, a block at a time, then committing it and
// moving the file (see inbox.hpp).
#include "core/read_lease.hpp"
#include "core/text.hpp"
#include "hr/event_stream.hpp"
#include "hr/inbox.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <unordered_map>

namespace h2r {
namespace {

constexpr std::size_t k_read_block = 1 << 16;

std::atomic<std::uint64_t> g_whole_file_reads{0};

std::string errno_text(int err) { return std::strerror(err); }

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// An IngestSink behind the session interface: collects the whole file, finds event_ids repeated in
// it, and hands every event over at commit().
class WholeFileSession final : public IngestSession {
public:
  WholeFileSession(const IngestSink& sink, std::string file_name) : m_sink(sink), m_file_name(std::move(file_name)) {}

  Result<void> add(std::vector<HrEvent>& events, std::vector<FileProblem>& problems) override {
    for (auto& e : events) {
      auto [it, inserted] = m_first_record.emplace(e.event_id, e.record);
      if (!inserted) problems.push_back(duplicate_event_id_problem(e, it->second));
      m_events.push_back(std::move(e));
    }
    return {};
  }
  Result<void> commit() override { return m_sink(m_file_name, m_events); }

private:
  const IngestSink& m_sink;
  std::string m_file_name;
  std::vector<HrEvent> m_events;
  std::unordered_map<std::string, int> m_first_record;
};

} // namespace

Inbox::Inbox(InboxOptions options, IngestSink sink, const Clock& clock)
    : Inbox(std::move(options),
            [whole = std::move(sink)](const std::string& name) -> Result<std::unique_ptr<IngestSession>> {
              return std::unique_ptr<IngestSession>(std::make_unique<WholeFileSession>(whole, name));
            },
            clock) {}

std::uint64_t Inbox::whole_file_reads() { return g_whole_file_reads.load(std::memory_order_relaxed); }

// One file being read (Inbox::read_and_store), a step per function. A step returns the file's outcome
// when the read ends there, nullopt to go on. Holds `this` in its reader: neither copied nor moved.
class Inbox::FileRead {
public:
  FileRead(Inbox& inbox, const std::string& name, int fd, const struct ::stat& opened, FileFormat format)
      : m_inbox(inbox), m_name(name), m_path(inbox.m_options.dir + "/" + name), m_fd(fd), m_opened(opened),
        m_format(format), m_limit(inbox.m_max_file_bytes.load()) {}
  FileRead(const FileRead&) = delete;
  FileRead& operator=(const FileRead&) = delete;

  Outcome run(const ReadLease& lease) {
    if (auto ended = stream()) return *ended;
    if (m_read_whole && m_format == FileFormat::json)
      if (auto ended = scan_json_syntax()) return *ended;
    if (m_read_whole)
      if (auto ended = read_whole()) return *ended;
    struct stat read_st {}; // fstat once read: what was read
    if (::fstat(m_fd, &read_st) != 0) return m_inbox.reject(m_name, {"cannot be examined: " + errno_text(errno)});
    const Look read = look_of(read_st);
    if (read != look_of(m_opened) || m_bytes != read.size) return m_inbox.changed(m_name, read, "while being read");
    if (!m_problems.empty()) return reject_problems(read, lease);
    for (const auto& note : m_notes)
      spdlog::info("inbox.note file=\"{}\" note=\"{}\"", escape_for_log(m_name), escape_for_log(note));
    return store_and_move(read, lease);
  }

private:
  // An invalid file is rejected; any other error leaves it for a later try.
  Outcome failed(const Error& error) {
    if (error.kind == ErrorKind::invalid) return m_inbox.reject(m_name, {error.message});
    return m_inbox.defer(m_name, error.message);
  }

  // The next bytes of the file, counted against the size limit.
  Result<std::size_t> read_block(char* buf, std::size_t size) {
    for (;;) {
      const ssize_t n = ::read(m_fd, buf, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(ErrorKind::transient, "cannot be read: " + errno_text(errno));
      m_bytes += static_cast<std::uint64_t>(n);
      if (m_bytes > m_limit) // grew after fstat
        return fail(ErrorKind::invalid, "is " + std::to_string(m_bytes) + " bytes, above the limit of " +
                                            std::to_string(m_limit) + " bytes (it grew while being read)");
      return static_cast<std::size_t>(n);
    }
  }

  // Back to the file's start for one more pass; what the session holds is dropped.
  std::optional<Outcome> rewind() {
    m_session.reset();
    if (::lseek(m_fd, 0, SEEK_SET) != 0) return m_inbox.defer(m_name, "cannot be read: " + errno_text(errno));
    m_bytes = 0;
    return std::nullopt;
  }

  // The streaming pass: valid events into a new session, chunk by chunk.
  std::optional<Outcome> stream() {
    auto session = m_inbox.m_sink(m_name);
    if (!session) return failed(session.error());
    m_session = std::move(*session);
    const auto add = [&](std::vector<HrEvent>& events, std::vector<FileProblem>& found) {
      return m_session->add(events, found);
    };
    auto streamed = read_event_stream(m_format, m_reader, add, k_stream_chunk_events, m_inbox.m_options.dates);
    if (!streamed) return failed(streamed.error());
    m_events = streamed->events;
    m_problems = std::move(streamed->problems);
    m_notes = std::move(streamed->notes);
    m_read_whole = streamed->read_whole;
    return std::nullopt;
  }

  // A JSON syntax error (or more events than allowed) is told by one more pass that holds nothing:
  // a large file is not read whole, nor parsed twice, to be rejected.
  std::optional<Outcome> scan_json_syntax() {
    if (auto ended = rewind()) return ended;
    auto known = scan_json_file(m_reader);
    if (!known) return failed(known.error());
    if (*known) {
      m_problems = std::move(**known);
      m_notes.clear();
      m_events = 0;
      m_read_whole = false;
    }
    return std::nullopt;
  }

  // A problem about the whole file, or UTF-16: read it whole, as parse_event_file says it; a file
  // without problems then goes into a new session.
  std::optional<Outcome> read_whole() {
    g_whole_file_reads.fetch_add(1, std::memory_order_relaxed);
    if (auto ended = rewind()) return ended;
    std::string content;
    content.reserve(static_cast<std::size_t>(m_opened.st_size));
    char buf[k_read_block];
    for (;;) {
      auto n = read_block(buf, sizeof buf);
      if (!n) return failed(n.error());
      if (*n == 0) break;
      content.append(buf, *n);
    }
    ParsedFile parsed = parse_event_file(m_format, content, m_inbox.m_options.dates);
    content = std::string();
    m_problems = std::move(parsed.problems);
    m_notes = std::move(parsed.notes);
    m_events = parsed.events.size();
    if (!m_problems.empty()) return std::nullopt;
    return add_parsed(parsed.events);
  }

  // `events` (a whole file's, without problems) into a new session, a chunk per add().
  std::optional<Outcome> add_parsed(std::vector<HrEvent>& events) {
    auto session = m_inbox.m_sink(m_name);
    if (!session) return failed(session.error());
    m_session = std::move(*session);
    for (std::size_t at = 0; at < events.size(); at += k_stream_chunk_events) {
      const auto from = events.begin() + static_cast<std::ptrdiff_t>(at);
      const auto to = events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), at + k_stream_chunk_events));
      std::vector<HrEvent> chunk(std::make_move_iterator(from), std::make_move_iterator(to));
      try {
        if (auto added = m_session->add(chunk, m_problems); !added) return failed(added.error());
      } catch (const std::exception& e) {
        return m_inbox.defer(m_name, std::string("storing the events threw: ") + e.what());
      }
    }
    return std::nullopt;
  }

  // The file as it is now in the inbox, compared with what was read: nullopt when another file
  // took its name meanwhile (or it is gone).
  std::optional<bool> same_file_changed(const Look& read) const {
    struct stat now {};
    if (::lstat(m_path.c_str(), &now) != 0) return std::nullopt;
    const Look look = look_of(now);
    if (look.ino != read.ino || look.dev != read.dev) return std::nullopt;
    return look != read;
  }

  Outcome reject_problems(const Look& read, const ReadLease& lease) {
    m_session.reset(); // nothing of a rejected file is kept
    if (same_file_changed(read).value_or(false)) return m_inbox.changed(m_name, read, "before being rejected");
    std::vector<std::string> lines;
    lines.reserve(m_problems.size());
    for (const auto& p : m_problems) lines.push_back(p.to_string());
    if (lease.state() == ReadLease::State::held && !lease.still_held())
      return m_inbox.changed(m_name, read, "opened for writing while being read");
    return m_inbox.reject(m_name, lines);
  }

  // Commits the session, then moves the file to processed/ — only the file that was read, as it was
  // read: if another file was renamed over it meanwhile, that one is left; if it grew or was rewritten
  // meanwhile, it is left to be read again.
  Outcome store_and_move(const Look& read, const ReadLease& lease) {
    Result<void> stored;
    try {
      stored = m_session->commit();
    } catch (const std::exception& e) {
      return m_inbox.defer(m_name, std::string("storing the events threw: ") + e.what());
    }
    m_session.reset();
    if (!stored) return failed(stored.error());
    const auto state = same_file_changed(read);
    if (!state && path_exists(m_path)) {
      spdlog::info("inbox.accepted file=\"{}\" events={} note=\"replaced meanwhile; new file stays\"",
                   escape_for_log(m_name), m_events);
      return Outcome::accepted;
    }
    if (state.value_or(false)) return m_inbox.changed(m_name, read, "while being stored");
    // A process waits to open it for writing (the lease is being broken): leave it, so that what it
    // writes lands in the inbox, not in processed/. Its events are stored; read again, they are duplicates.
    if (lease.state() == ReadLease::State::held && !lease.still_held())
      return m_inbox.changed(m_name, read, "opened for writing while being stored");
    return move_to_processed(read);
  }

  // The stored file into processed/ (put back when written between the last check and the rename).
  Outcome move_to_processed(const Look& read) {
    const std::string moved = m_inbox.move_to(m_name, "processed", false);
    if (moved.empty()) {   // move_to logged why (processed/ replaced by a link, say): the file stays
      spdlog::warn("inbox.deferred file=\"{}\" events={} note=\"events stored, but the file could not be moved to "
                   "processed/; it stays and is read again (its events are then duplicates)\"",
                   escape_for_log(m_name), m_events);
      return Outcome::deferred;
    }
    // Written between the check and the rename: put it back (the new lines are in it).
    struct stat after {};
    if (::fstat(m_fd, &after) == 0 && look_of(after) != read) {
      if (m_inbox.move_back(moved, m_name)) return m_inbox.changed(m_name, look_of(after), "while being moved");
      spdlog::error("inbox.error file=\"{}\" error=\"changed while being moved to processed/ and cannot be moved "
                    "back: {}; its new lines are in processed/{}\"",
                    escape_for_log(m_name), errno_text(errno), escape_for_log(moved));
    }
    spdlog::info("inbox.accepted file=\"{}\" events={}{}", escape_for_log(m_name), m_events,
                 moved == m_name ? "" : " moved_to=\"processed/" + escape_for_log(moved) + "\"");
    return Outcome::accepted;
  }

  Inbox& m_inbox;
  const std::string& m_name;
  const std::string m_path;
  const int m_fd;
  const struct ::stat& m_opened;
  const FileFormat m_format;
  const std::uint64_t m_limit;
  std::uint64_t m_bytes = 0;   // read so far in this pass: compared with the file's size once read
  const ByteReader m_reader = [this](char* buf, std::size_t size) { return read_block(buf, size); };
  std::unique_ptr<IngestSession> m_session;
  std::size_t m_events = 0;
  std::vector<FileProblem> m_problems;
  std::vector<std::string> m_notes;
  bool m_read_whole = false;
};

Inbox::Outcome Inbox::read_and_store(const std::string& name, int fd, const struct ::stat& opened, FileFormat format,
                                     const ReadLease& lease) {
  return FileRead(*this, name, fd, opened, format).run(lease);
}

} // namespace h2r
