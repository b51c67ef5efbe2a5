// RulesHolder: the rules in force, swapped atomically between events. A reload parses into a staging
// copy and validates it as `h2rd check` does (h2rd/cli/cmd_check.cpp: the loader's checks plus
// check_references() against the store's connections); on any error the rules in force stay and the
// error (file:line:col) is kept for `status`. The file is parsed from one read of the whole of it.
#pragma once

#include "core/mutex.hpp"
#include "rules/rules.hpp"
#include "store/store.hpp"

#include <chrono>
#include <functional>
#include <sys/stat.h>

namespace h2r {

// Called after new rules came into force: `before` the rules they replace (null when unknown: at the
// first load, the rules of the last run when the store still holds their text), `before_version` its
// version ("" when no rules were ever in force here). Called on the reloading thread, no lock held.
struct RulesChange {
  RulesPtr before;
  std::string before_version;
  std::string before_text;   // "" when unknown
  RulesPtr now;
};
using RulesChanged = std::function<void(const RulesChange& change)>;

class RulesHolder {
public:
  RulesHolder(std::string path, Store* store) : m_path(std::move(path)), m_store(store) {}

  // Set before the first reload.
  void on_change(RulesChanged callback) { m_on_change = std::move(callback); }

  // Loads the file now (start, SIGHUP); true when it is valid and now in force.
  bool reload(const std::string& why);
  // Reloads when the file changed since the last load (content replaced, edited in place), once it
  // has stopped changing: unchanged for the settle interval, and (where a read lease can be had,
  // core/read_lease.hpp) open for writing by no process.
  bool reload_if_changed();
  void set_settle(std::chrono::milliseconds settle) { m_settle = settle; }   // before the first reload
  RulesPtr current() const;
  std::string last_error() const;

  static constexpr std::chrono::milliseconds k_default_settle{2'000};   // InboxOptions::k_default_settle

private:
  std::string signature() const;   // inode, size and mtime of the file
  bool load(const std::string& why, bool wait_for_writers);
  // check_references() against the store: the connections that exist, the fields events carried.
  // Its warnings are logged here. With no connection in the store at all, a missing one is a warning.
  Diagnostics check_installation(const Rules& rules) const;
  // At the first load: the rules the store says were in force before (version, and the rules when
  // their text is stored and still valid).
  RulesChange stored_rules() const H2R_REQUIRES(m_mutex);

  std::string m_path;
  Store* m_store;
  mutable Mutex m_mutex;
  RulesPtr m_rules H2R_GUARDED_BY(m_mutex);
  std::string m_text H2R_GUARDED_BY(m_mutex);        // the text of m_rules
  std::string m_error H2R_GUARDED_BY(m_mutex);
  std::string m_signature H2R_GUARDED_BY(m_mutex);
  std::string m_pending H2R_GUARDED_BY(m_mutex);     // the signature of a change not yet read ("" when none)
  std::chrono::steady_clock::time_point m_pending_since H2R_GUARDED_BY(m_mutex);
  std::chrono::milliseconds m_settle{k_default_settle};
  RulesChanged m_on_change;
};

} // namespace h2r
