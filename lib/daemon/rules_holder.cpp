#include "daemon/rules_holder.hpp"

#include "core/read_lease.hpp"
#include "daemon/daemon.hpp"
#include "store/meta_keys.hpp"
#include "yaml/yaml_bounds.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace h2r {

namespace {

std::string signature_of(const struct stat& st) {
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

Diagnostics cannot_read(const std::string& path, int err) {
  return {Diagnostic{path, 0, 0, std::string("cannot read the rules file: ") + std::strerror(err) +
                                     " (check `rules:` in the config)", false}};
}

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

} // namespace

std::string RulesHolder::signature() const {
  struct stat st {};
  if (::stat(m_path.c_str(), &st) != 0) return "missing";
  return signature_of(st);
}

Diagnostics RulesHolder::check_installation(const Rules& rules) const {
  if (!m_store) return {};
  auto connections = m_store->list_connections();
  if (!connections)
    return {Diagnostic{rules.source(), 0, 0, "cannot check the connections the rules name: " + connections.error().message, false}};
  std::vector<std::string> names;
  for (const auto& c : *connections) names.push_back(c.name);
  auto seen = m_store->seen_fields();
  Diagnostics out = check_connection_references(rules, names);
  // A new installation runs before its first `h2rd connection add`: there, a missing connection is a
  // warning (no Zoom account can be changed; its events fail until it is added). Wherever connections
  // exist, it is an error. A field that decides and is unknown is an error either way.
  if (names.empty())
    for (auto& d : out) d.warning = true;
  for (auto& d : check_field_references(rules, seen ? *seen : std::set<std::string>{})) out.push_back(std::move(d));
  for (const auto& d : out)
    if (d.warning) spdlog::warn("rules.warning {}", escape_for_log(d.to_string(), 2000, ""));
  return out;
}

bool RulesHolder::reload(const std::string& why) { return load(why, false); }

bool RulesHolder::load(const std::string& why, bool wait_for_writers) {
  // One read of the whole file, from one descriptor: the signature, the rules, their version and the
  // text stored for the next start all describe the same bytes.
  const int fd = ::open(m_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  const FdCloser closer{fd};
  std::string text;
  std::string sig = "missing";
  Expected<RulesPtr, Diagnostics> loaded = unexpected(cannot_read(m_path, errno));
  if (fd >= 0) {
    // A process still has it open for writing (an editor saving in place, a copy under way): read it
    // once it is closed and has settled again, never half of it.
    const ReadLease lease = ReadLease::take(fd);
    if (wait_for_writers && lease.state() == ReadLease::State::writing) {
      MutexLock lock(m_mutex);
      m_pending_since = std::chrono::steady_clock::now();
      spdlog::info("rules.busy file=\"{}\" note=\"open for writing by a process; read once closed and unchanged for "
                   "{} ms\"", escape_for_log(m_path), m_settle.count());
      return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0) sig = signature_of(st);
    loaded = yaml::read_fd_prefix(fd, yaml::Limits{}.max_bytes, text) ? load_rules_text(text, m_path)
                                                                       : unexpected(cannot_read(m_path, errno));
  }
  // What `h2rd check` refuses is refused here too: a target connection that does not exist.
  if (loaded)
    if (Diagnostics problems = check_installation(**loaded); has_errors(problems)) loaded = unexpected(std::move(problems));
  MutexLock lock(m_mutex);
  m_signature = sig;
  m_pending.clear();
  if (!loaded) {
    std::string messages;
    for (const auto& d : loaded.error()) {
      if (d.warning) continue;
      if (!messages.empty()) messages += "; ";
      messages += d.to_string();
    }
    m_error = messages;
    spdlog::error("rules.reload_failed file=\"{}\" trigger={} kept={} errors=\"{}\"", escape_for_log(m_path), why,
                  m_rules ? m_rules->version() : "none", escape_for_log(messages, 2000));
    if (m_store) log_write_failure(m_store->set_meta(k_meta_rules_error, messages), "rules.error");
    return false;
  }
  for (const auto& w : (*loaded)->warnings()) spdlog::warn("rules.warning {}", escape_for_log(w.to_string(), 2000, ""));
  const bool first = !m_rules;
  RulesChange change = first ? stored_rules() : RulesChange{m_rules, m_rules->version(), m_text, nullptr};
  const bool changed = change.before_version != (*loaded)->version();
  m_rules = *loaded;
  m_text = text;
  m_error.clear();
  change.now = m_rules;
  if (first || changed) spdlog::info("rules.loaded file=\"{}\" version={} trigger={}", escape_for_log(m_path), m_rules->version(), why);
  if (m_store) {
    log_write_failure(m_store->set_meta(k_meta_rules_version, m_rules->version()), "rules.version");
    log_write_failure(m_store->set_meta(k_meta_rules_error, ""), "rules.error");
    if (first || changed) log_write_failure(m_store->set_meta(k_meta_rules_text, m_text), "rules.text");   // the base of the next start's resync
  }
  lock.unlock();
  if (changed && !change.before_version.empty() && m_on_change) m_on_change(change);
  return true;
}


RulesChange RulesHolder::stored_rules() const {
  RulesChange change;
  if (!m_store) return change;
  auto version = m_store->get_meta(k_meta_rules_version);
  if (!version || !*version || (*version)->empty()) return change;
  change.before_version = **version;
  auto text = m_store->get_meta(k_meta_rules_text);
  if (!text || !*text || (*text)->empty()) return change;
  auto rules = load_rules_text(**text, "the rules of version " + change.before_version);
  if (!rules || (*rules)->version() != change.before_version) return change;
  change.before = *rules;
  change.before_text = **text;
  return change;
}

bool RulesHolder::reload_if_changed() {
  const std::string sig = signature();
  {
    MutexLock lock(m_mutex);
    if (sig == m_signature) {
      m_pending.clear();
      return false;
    }
    // Changed: read only once it has stopped changing (unchanged for m_settle), as inbox files are.
    const auto now = std::chrono::steady_clock::now();
    if (sig != m_pending) {
      m_pending = sig;
      m_pending_since = now;
      spdlog::debug("rules.settling file=\"{}\"", escape_for_log(m_path));
      return false;
    }
    if (now - m_pending_since < m_settle) return false;
  }
  return load("file changed", true);
}

RulesPtr RulesHolder::current() const {
  MutexLock lock(m_mutex);
  return m_rules;
}

std::string RulesHolder::last_error() const {
  MutexLock lock(m_mutex);
  return m_error;
}

} // namespace h2r
