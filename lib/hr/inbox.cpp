#include "hr/inbox.hpp"

#include "core/read_lease.hpp"
#include "core/text.hpp"
#include "hr/readers.hpp"
#include "hr/report_name.hpp"

#include <spdlog/spdlog.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <set>
#include <utility>

namespace h2r {
namespace {

constexpr std::chrono::milliseconds k_poll_slice{200};     // how long watch() may miss a shutdown request
constexpr std::chrono::hours k_purge_interval{1};
constexpr int k_max_collision_suffixes = 1000;
constexpr std::size_t k_report_name_bytes = 1024;   // above NAME_MAX: a report never cuts a name
constexpr std::size_t k_report_line_bytes = 2000;
// Exact, whatever the umask: HR systems (group h2r) read the reports in rejected/.
constexpr mode_t k_folder_mode = 0750;
constexpr mode_t k_report_mode = 0640;

std::string errno_text(int err) { return std::strerror(err); }

std::string compact_utc(SystemTime t, const char* format) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const char* file_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Result<void> ensure_dir(const std::string& path, bool allow_symlink) {
  struct stat st {};
  if ((allow_symlink ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return fail(ErrorKind::invalid, "inbox folder " + path + " exists but is not a directory");
  }
  if (errno != ENOENT) return fail(ErrorKind::invalid, "cannot use inbox folder " + path + ": " + errno_text(errno));
  if (::mkdir(path.c_str(), k_folder_mode) != 0) {
    if (errno == EEXIST) return {};
    return fail(ErrorKind::invalid, "cannot create inbox folder " + path + ": " + errno_text(errno));
  }
  // The umask may have removed bits (the unit's is 0077): HR, group h2r, reads rejected/. Through a
  // descriptor of the folder itself, never a link put in its place meanwhile.
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || ::fchmod(fd, k_folder_mode) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    return fail(ErrorKind::invalid, "cannot set the mode of inbox folder " + path + ": " + errno_text(err));
  }
  ::close(fd);
  return {};
}

} // namespace

// processed/ or rejected/ opened as a directory, never through a symbolic link (nor the entry
// replaced by one: O_NOFOLLOW on the last component), relative to the inbox opened itself.
Inbox::Folder::~Folder() {
  if (sub >= 0) ::close(sub);
  if (inbox >= 0) ::close(inbox);
}

Inbox::Folder Inbox::open_folder(const std::string& sub) const {
  Folder f;
  f.inbox = ::open(m_options.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (f.inbox < 0) {
    f.error = "cannot open the inbox " + m_options.dir + ": " + errno_text(errno);
    return f;
  }
  f.sub = ::openat(f.inbox, sub.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (f.sub >= 0) return f;
  const int err = errno;
  struct stat st {};
  if ((err == ELOOP || err == ENOTDIR) && ::fstatat(f.inbox, sub.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(st.st_mode))
    f.error = sub + "/ is a symbolic link: refused, h2r never moves nor deletes files through a link (make " +
              m_options.dir + "/" + sub + " a real folder again)";
  else
    f.error = "cannot open " + sub + "/: " + errno_text(err);
  return f;
}

Inbox::Inbox(InboxOptions options, IngestSessionSink sink, const Clock& clock)
    : m_options(std::move(options)), m_max_file_bytes(m_options.max_file_bytes),
      m_retention_days(m_options.retention_days), m_sink(std::move(sink)), m_clock(clock) {}

void Inbox::set_limits(std::uint64_t max_file_bytes, int retention_days) {
  m_max_file_bytes = max_file_bytes;
  m_retention_days = retention_days;
}

Result<void> Inbox::prepare() {
  std::string parent;
  if (auto slash = m_options.dir.find_last_of('/'); slash != std::string::npos && slash > 0)
    parent = m_options.dir.substr(0, slash);
  if (!parent.empty() && !path_exists(parent)) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return fail(ErrorKind::invalid, "cannot create " + parent + ": " + ec.message());
  }
  H2R_TRY(ensure_dir(m_options.dir, true));
  H2R_TRY(ensure_dir(m_options.dir + "/processed", false));
  H2R_TRY(ensure_dir(m_options.dir + "/rejected", false));
  return {};
}

bool Inbox::eligible_name(const std::string& name) {
  return !name.empty() && name.front() != '.' && !ends_with(name, ".tmp") && !ends_with(name, ".part") &&
         name != "processed" && name != "rejected";
}

std::vector<std::string> Inbox::list_names() {
  std::vector<std::string> names;
  DIR* dir = ::opendir(m_options.dir.c_str());
  if (!dir) {
    spdlog::error("inbox.error dir=\"{}\" error=\"cannot list: {}\"", escape_for_log(m_options.dir), errno_text(errno));
    return names;
  }
  while (const dirent* entry = ::readdir(dir))
    if (eligible_name(entry->d_name)) names.emplace_back(entry->d_name);
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

void Inbox::count(ScanReport& report, Outcome outcome) {
  switch (outcome) {
  case Outcome::accepted: ++report.accepted; break;
  case Outcome::rejected: ++report.rejected; break;
  case Outcome::deferred: ++report.deferred; break;
  case Outcome::settling: ++report.settling; break;
  case Outcome::skipped: break;
  }
}

Inbox::Look Inbox::look_of(const struct ::stat& st) {
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_dev)};
}

ScanReport Inbox::scan() {
  ScanReport report;
  for (const auto& name : list_names()) {
    m_settling.erase(name);
    count(report, process(name, false));
  }
  return report;
}

Inbox::Outcome Inbox::process(const std::string& name, bool settled) {
  const std::string path = m_options.dir + "/" + name;
  const std::uint64_t limit = m_max_file_bytes.load();
  auto too_big = [&](std::uint64_t size) {
    return "is " + std::to_string(size) + " bytes, above the limit of " + std::to_string(limit) + " bytes";
  };
  auto defer = [&](const std::string& why) { return Inbox::defer(name, why); };
  auto reject_one = [&](const std::string& why) { return reject(name, {why}); };

  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? Outcome::skipped : defer(errno_text(errno));
  if (S_ISDIR(st.st_mode)) return Outcome::skipped;
  if (S_ISLNK(st.st_mode)) return reject_one("is a symbolic link (links are never followed)");
  if (!S_ISREG(st.st_mode)) return reject_one(std::string("is ") + file_kind(st.st_mode) + ", not a regular file");
  const auto format = format_for_name(name);
  if (!format) return reject_one("unknown file extension (" + std::string(accepted_extensions()) + ")");
  for (std::string_view own : {k_resync_source_prefix, k_on_demand_source_prefix})
    if (std::string_view(name).starts_with(own))
      return reject_one("is named like h2r's own events (a name starting '" + std::string(own) +
                        "' is a rules edit's or an admin's, never an HR file's): rename it");
  if (static_cast<std::uint64_t>(st.st_size) > limit) return reject_one(too_big(static_cast<std::uint64_t>(st.st_size)));

  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Outcome::skipped;
    if (err == ELOOP) return reject_one("is a symbolic link (links are never followed)");
    if (err == EACCES || err == EPERM) return reject_one("cannot be opened: " + errno_text(err));
    return defer("cannot be opened: " + errno_text(err));
  }
  // Open until the file is moved: its fstat after the move tells whether it was written meanwhile.
  const FdCloser closer{fd};
  struct stat fst {};
  if (::fstat(fd, &fst) != 0) return reject_one("cannot be examined: " + errno_text(errno));
  if (!S_ISREG(fst.st_mode)) return reject_one(std::string("is ") + file_kind(fst.st_mode) + ", not a regular file");
  if (static_cast<std::uint64_t>(fst.st_size) > limit) return reject_one(too_big(static_cast<std::uint64_t>(fst.st_size)));
  // Never a file some process still has open for writing: a read lease says so, and keeps writers
  // out until the file is moved. Where no lease can be had, the settle rule: announced complete or
  // seen unchanged by a rescan (`settled`), or for scan() last written at least options.settle ago.
  const ReadLease lease = ReadLease::take(fd);
  note_lease_refused(lease.error());
  if (lease.state() == ReadLease::State::writing) return busy(name, look_of(fst), "open for writing by a process");
  if (lease.state() == ReadLease::State::unknown && !settled && !written_at_least_ago(fst, m_options.settle))
    return busy(name, look_of(fst), "written less than the settle interval ago (no lease here to tell)");
  return read_and_store(name, fd, fst, *format, lease);
}

// Once per Inbox (per start of h2rd): files of another user get no lease without CAP_LEASE, which
// the packaged unit leaves to a drop-in. Every such file would say so: one line says it for all.
void Inbox::note_lease_refused(int err) {
  if ((err != EACCES && err != EPERM) || m_lease_refusal_noted) return;
  m_lease_refusal_noted = true;
  spdlog::warn("inbox.no_lease error=\"{}\" note=\"no read lease on files of other users (no CAP_LEASE): h2rd "
               "falls back to the settle rule, a file is taken once unchanged for {} ms; the drop-in "
               "h2rd-lease.conf (in /usr/share/doc/h2r/examples, docs/operations.md) enables leases\"",
               errno_text(err), m_options.settle.count());
}

Inbox::Outcome Inbox::defer(const std::string& name, const std::string& why) {
  spdlog::warn("inbox.deferred file=\"{}\" error=\"{}\"", escape_for_log(name), escape_for_log(why));
  return Outcome::deferred;
}

// Still being written: leave it, and read it again once it has settled.
Inbox::Outcome Inbox::changed(const std::string& name, const Look& look, const char* when) {
  spdlog::info("inbox.changed file=\"{}\" when=\"{}\" note=\"read again once unchanged for {} ms\"",
               escape_for_log(name), when, m_options.settle.count());
  note_changed(name, look);
  return Outcome::settling;
}

// Not taken now: a writer has it open (or may still be writing). Looked at again as it settles.
Inbox::Outcome Inbox::busy(const std::string& name, const Look& look, const char* why) {
  spdlog::info("inbox.busy file=\"{}\" reason=\"{}\" note=\"left in the inbox; taken once no process writes it\"",
               escape_for_log(name), why);
  note_changed(name, look);
  return Outcome::settling;
}

Inbox::Outcome Inbox::reject(const std::string& name, const std::vector<std::string>& problems) {
  const std::string moved = move_to(name, "rejected", true);
  spdlog::warn("inbox.rejected file=\"{}\" problems={} first=\"{}\"{}", escape_for_log(name), problems.size(),
               escape_for_log(problems.empty() ? "" : problems.front()),
               moved.empty() ? " note=\"not moved (see the inbox.error line); it stays in the inbox\"" : "");
  if (moved.empty()) return Outcome::deferred; // move_to logged why; the file stays and is looked at again later

  // Names and problems are escaped as in log lines (no quotes around them): one line each, always.
  std::string text = "file: " + escape_for_log(name, k_report_name_bytes, "") +
                     "\nrejected at: " + compact_utc(m_clock.now(), "%Y-%m-%dT%H:%M:%SZ") +
                     "\nmoved to: rejected/" + escape_for_log(moved, k_report_name_bytes, "") +
                     "\nproblems: " + std::to_string(problems.size()) + "\n";
  for (const auto& p : problems) text += escape_for_log(p, k_report_line_bytes, "", false) + "\n";

  const std::string report = m_options.dir + "/rejected/" + hr_detail::report_name(moved);
  const Folder rejected = open_folder("rejected");
  const int fd = rejected.sub < 0 ? -1
                                  : ::openat(rejected.sub, hr_detail::report_name(moved).c_str(),
                                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, k_report_mode);
  if (fd < 0) {
    spdlog::error("inbox.error file=\"{}\" error=\"cannot write report: {}\"", escape_for_log(report),
                  rejected.sub < 0 ? escape_for_log(rejected.error) : errno_text(errno));
    return Outcome::rejected;
  }
  if (::fchmod(fd, k_report_mode) != 0) // the umask may have removed the group's read bit
    spdlog::error("inbox.error file=\"{}\" error=\"cannot set the report's mode: {}\"", escape_for_log(report),
                  errno_text(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::error("inbox.error file=\"{}\" error=\"cannot write report: {}\"", escape_for_log(report), errno_text(errno));
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return Outcome::rejected;
}

std::string Inbox::move_to(const std::string& name, const std::string& sub, bool with_report) {
  const Folder folder = open_folder(sub);
  if (folder.sub < 0) {
    spdlog::error("inbox.error file=\"{}\" error=\"cannot move to {}/: {}\"", escape_for_log(name), sub,
                  escape_for_log(folder.error));
    return {};
  }
  auto taken = [&](const std::string& entry) {
    struct stat st {};
    return ::fstatat(folder.sub, entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  };
  const std::string stamp = compact_utc(m_clock.now(), "%Y%m%dT%H%M%SZ");
  for (int attempt = 0; attempt <= k_max_collision_suffixes; ++attempt) {
    const std::string candidate =
        attempt == 0 ? name : hr_detail::fitted_name(name, "." + stamp + "-" + std::to_string(attempt));
    if (with_report && taken(hr_detail::report_name(candidate))) continue;
    if (::renameat2(folder.inbox, name.c_str(), folder.sub, candidate.c_str(), RENAME_NOREPLACE) == 0) return candidate;
    int err = errno;
    if (err == EINVAL || err == ENOSYS) { // filesystem without RENAME_NOREPLACE: check, then rename
      if (taken(candidate)) continue;
      if (::renameat(folder.inbox, name.c_str(), folder.sub, candidate.c_str()) == 0) return candidate;
      err = errno;
    }
    if (err == EEXIST) continue;
    spdlog::error("inbox.error file=\"{}\" error=\"cannot move to {}/: {}\"", escape_for_log(name), sub, errno_text(err));
    return {};
  }
  spdlog::error("inbox.error file=\"{}\" error=\"no free name in {}/\"", escape_for_log(name), sub);
  return {};
}

bool Inbox::move_back(const std::string& moved, const std::string& name) {
  const Folder folder = open_folder("processed");
  return folder.sub >= 0 &&
         ::renameat2(folder.sub, moved.c_str(), folder.inbox, name.c_str(), RENAME_NOREPLACE) == 0;
}

void Inbox::purge_old() {
  const int retention_days = m_retention_days.load();
  if (retention_days <= 0) return;
  const auto cutoff = m_clock.now() - std::chrono::hours(24) * retention_days;
  for (const char* sub : {"processed", "rejected"}) {
    Folder folder = open_folder(sub);
    if (folder.sub < 0) {
      spdlog::error("inbox.error dir=\"{}\" error=\"cannot purge {}/: {}\"", escape_for_log(m_options.dir), sub,
                    escape_for_log(folder.error));
      continue;
    }
    DIR* dir = ::fdopendir(std::exchange(folder.sub, -1));   // owns the descriptor from here
    if (!dir) continue;
    const int dfd = ::dirfd(dir);
    while (const dirent* entry = ::readdir(dir)) {
      struct stat st {};
      if (entry->d_name[0] == '.' && (entry->d_name[1] == '\0' || std::strcmp(entry->d_name, "..") == 0)) continue;
      if (::fstatat(dfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode)) continue;
      // Renames keep mtime (when HR wrote the file) but set ctime (when it was moved here).
      const auto changed = std::max(st.st_mtim.tv_sec, st.st_ctim.tv_sec);
      if (std::chrono::system_clock::from_time_t(changed) >= cutoff) continue;
      if (::unlinkat(dfd, entry->d_name, 0) == 0)
        spdlog::info("inbox.purged file=\"{}/{}\"", sub, escape_for_log(entry->d_name));
      else
        spdlog::warn("inbox.error file=\"{}/{}\" error=\"cannot delete: {}\"", sub, escape_for_log(entry->d_name),
                     errno_text(errno));
    }
    ::closedir(dir);
  }
}

void Inbox::watch(Shutdown& shutdown) {
  using Steady = std::chrono::steady_clock;
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) spdlog::warn("inbox.error error=\"inotify unavailable ({}); rescans only\"", errno_text(errno));
  int wd = -1;
  auto add_watch = [&] {
    if (fd < 0 || wd >= 0) return;
    wd = ::inotify_add_watch(fd, m_options.dir.c_str(),
                             IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR | IN_MOVE_SELF | IN_DELETE_SELF);
    if (wd < 0)
      spdlog::warn("inbox.error dir=\"{}\" error=\"cannot watch: {}; rescans only\"", escape_for_log(m_options.dir),
                   errno_text(errno));
  };
  add_watch();
  rescan();
  purge_old();
  auto next_rescan = Steady::now() + m_options.rescan_interval;
  auto next_purge = Steady::now() + k_purge_interval;
  alignas(inotify_event) char buf[16 * 1024];

  while (!shutdown.requested()) {
    const auto until_rescan = std::chrono::duration_cast<std::chrono::milliseconds>(next_rescan - Steady::now());
    const auto slice = std::clamp(until_rescan, std::chrono::milliseconds(0), k_poll_slice);
    bool full_scan = false;
    std::set<std::string> names;
    if (fd >= 0 && wd >= 0) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(slice.count())) > 0) {
        for (;;) {
          const ssize_t n = ::read(fd, buf, sizeof buf);
          if (n <= 0) break; // EAGAIN: drained
          for (ssize_t off = 0; off < n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
            if (ev->mask & IN_Q_OVERFLOW) full_scan = true;
            if (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF)) ::inotify_rm_watch(fd, wd);
            if (ev->mask & IN_IGNORED) wd = -1; // re-added at the next rescan
            if (ev->len > 0 && (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))) names.insert(ev->name);
            off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
          }
        }
      }
    } else {
      shutdown.wait_for(slice);
    }
    if (shutdown.requested()) break;
    if (full_scan) {
      spdlog::warn("inbox.overflow dir=\"{}\" note=\"inotify queue overflowed; rescanning\"", escape_for_log(m_options.dir));
      rescan();
    } else {
      for (const auto& name : names) {
        if (!eligible_name(name)) continue;
        m_settling.erase(name); // closed after writing or renamed in: complete, take it now
        process(name, true);
      }
    }
    if (!m_settling.empty()) take_settled();
    if (Steady::now() >= next_rescan) {
      add_watch();
      rescan();
      next_rescan = Steady::now() + m_options.rescan_interval;
    }
    if (Steady::now() >= next_purge) {
      purge_old();
      next_purge = Steady::now() + k_purge_interval;
    }
  }
  if (fd >= 0) ::close(fd);
}

} // namespace h2r
