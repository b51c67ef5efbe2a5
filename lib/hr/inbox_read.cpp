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

Inbox::Outcome Inbox::read_and_store(const std::string& name, int fd, const struct ::stat& opened, FileFormat format,
                                     const ReadLease& lease) {
  const std::string path = m_options.dir + "/" + name;
  const std::uint64_t limit = m_options.max_file_bytes;
  auto reject_one = [&](const std::string& why) { return reject(name, {why}); };
  auto failed = [&](const Error& error) {
    return error.kind == ErrorKind::invalid ? reject_one(error.message) : defer(name, error.message);
  };
  std::uint64_t bytes = 0; // read so far: compared with the file's size once read
  const ByteReader reader = [&](char* buf, std::size_t size) -> Result<std::size_t> {
    for (;;) {
      const ssize_t n = ::read(fd, buf, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(ErrorKind::transient, "cannot be read: " + errno_text(errno));
      bytes += static_cast<std::uint64_t>(n);
      if (bytes > limit) // grew after fstat
        return fail(ErrorKind::invalid, "is " + std::to_string(bytes) + " bytes, above the limit of " +
                                            std::to_string(limit) + " bytes (it grew while being read)");
      return static_cast<std::size_t>(n);
    }
  };

  auto session = m_sink(name);
  if (!session) return failed(session.error());
  auto streamed = read_event_stream(format, reader, [&](std::vector<HrEvent>& events, std::vector<FileProblem>& found) {
    return (*session)->add(events, found);
  });
  if (!streamed) return failed(streamed.error());
  std::size_t events = streamed->events;
  std::vector<FileProblem> problems = std::move(streamed->problems);
  std::vector<std::string> notes = std::move(streamed->notes);
  bool read_whole = streamed->read_whole;
  if (read_whole && format == FileFormat::json) {
    // A JSON syntax error (or more events than allowed) is told by one more pass that holds nothing:
    // a large file is not read whole, nor parsed twice, to be rejected.
    session->reset();
    if (::lseek(fd, 0, SEEK_SET) != 0) return defer(name, "cannot be read: " + errno_text(errno));
    bytes = 0;
    auto known = scan_json_file(reader);
    if (!known) return failed(known.error());
    if (*known) {
      problems = std::move(**known);
      notes.clear();
      events = 0;
      read_whole = false;
    }
  }
  if (read_whole) {
    // A problem about the whole file, or UTF-16: read it whole, as parse_event_file says it.
    g_whole_file_reads.fetch_add(1, std::memory_order_relaxed);
    session->reset();
    if (::lseek(fd, 0, SEEK_SET) != 0) return defer(name, "cannot be read: " + errno_text(errno));
    bytes = 0;
    std::string content;
    content.reserve(static_cast<std::size_t>(opened.st_size));
    char buf[k_read_block];
    for (;;) {
      auto n = reader(buf, sizeof buf);
      if (!n) return failed(n.error());
      if (*n == 0) break;
      content.append(buf, *n);
    }
    ParsedFile parsed = parse_event_file(format, content);
    content = std::string();
    problems = std::move(parsed.problems);
    notes = std::move(parsed.notes);
    events = parsed.events.size();
    if (problems.empty()) {
      session = m_sink(name);
      if (!session) return failed(session.error());
      for (std::size_t at = 0; at < parsed.events.size(); at += k_stream_chunk_events) {
        const auto from = parsed.events.begin() + static_cast<std::ptrdiff_t>(at);
        const auto to = parsed.events.begin() +
                        static_cast<std::ptrdiff_t>(std::min(parsed.events.size(), at + k_stream_chunk_events));
        std::vector<HrEvent> chunk(std::make_move_iterator(from), std::make_move_iterator(to));
        try {
          if (auto added = (*session)->add(chunk, problems); !added) return failed(added.error());
        } catch (const std::exception& e) {
          return defer(name, std::string("storing the events threw: ") + e.what());
        }
      }
    }
  }

  struct stat read_st {}; // fstat once read: what was read
  if (::fstat(fd, &read_st) != 0) return reject_one("cannot be examined: " + errno_text(errno));
  const Look read = look_of(read_st);
  if (read != look_of(opened) || bytes != read.size) return changed(name, read, "while being read");
  // The file as it is now in the inbox, compared with what was read: nullopt when another file
  // took its name meanwhile (or it is gone).
  auto same_file_changed = [&]() -> std::optional<bool> {
    struct stat now {};
    if (::lstat(path.c_str(), &now) != 0) return std::nullopt;
    const Look look = look_of(now);
    if (look.ino != read.ino || look.dev != read.dev) return std::nullopt;
    return look != read;
  };

  if (!problems.empty()) {
    session->reset(); // nothing of a rejected file is kept
    if (same_file_changed().value_or(false)) return changed(name, read, "before being rejected");
    std::vector<std::string> lines;
    lines.reserve(problems.size());
    for (const auto& p : problems) lines.push_back(p.to_string());
    if (lease.state() == ReadLease::State::held && !lease.still_held())
      return changed(name, read, "opened for writing while being read");
    return reject(name, lines);
  }
  for (const auto& note : notes)
    spdlog::info("inbox.note file=\"{}\" note=\"{}\"", escape_for_log(name), escape_for_log(note));

  Result<void> stored;
  try {
    stored = (*session)->commit();
  } catch (const std::exception& e) {
    return defer(name, std::string("storing the events threw: ") + e.what());
  }
  session->reset();
  if (!stored) return failed(stored.error());
  // Move only the file that was read, as it was read: if another file was renamed over it meanwhile,
  // leave that one; if it grew or was rewritten meanwhile, leave it to be read again.
  const auto state = same_file_changed();
  if (!state && path_exists(path)) {
    spdlog::info("inbox.accepted file=\"{}\" events={} note=\"replaced meanwhile; new file stays\"",
                 escape_for_log(name), events);
    return Outcome::accepted;
  }
  if (state.value_or(false)) return changed(name, read, "while being stored");
  // A process waits to open it for writing (the lease is being broken): leave it, so that what it
  // writes lands in the inbox, not in processed/. Its events are stored; read again, they are duplicates.
  if (lease.state() == ReadLease::State::held && !lease.still_held())
    return changed(name, read, "opened for writing while being stored");
  const std::string moved = move_to(name, "processed", false);
  if (moved.empty()) {   // move_to logged why (processed/ replaced by a link, say): the file stays
    spdlog::warn("inbox.deferred file=\"{}\" events={} note=\"events stored, but the file could not be moved to "
                 "processed/; it stays and is read again (its events are then duplicates)\"",
                 escape_for_log(name), events);
    return Outcome::deferred;
  }
  {
    // Written between the check above and the rename: put it back (the new lines are in it).
    struct stat after {};
    if (::fstat(fd, &after) == 0 && look_of(after) != read) {
      if (move_back(moved, name)) return changed(name, look_of(after), "while being moved");
      spdlog::error("inbox.error file=\"{}\" error=\"changed while being moved to processed/ and cannot be moved "
                    "back: {}; its new lines are in processed/{}\"",
                    escape_for_log(name), errno_text(errno), escape_for_log(moved));
    }
  }
  spdlog::info("inbox.accepted file=\"{}\" events={}{}", escape_for_log(name), events,
               moved == name ? "" : " moved_to=\"processed/" + escape_for_log(moved) + "\"");
  return Outcome::accepted;
}

} // namespace h2r
