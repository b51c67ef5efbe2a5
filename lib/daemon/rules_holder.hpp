// RulesHolder: the rules in force, swapped atomically between events. A reload parses into a staging
// copy and validates it; on failure the rules in force stay and the error is kept for `status`.
#pragma once

#include "rules/rules.hpp"
#include "store/store.hpp"

#include <functional>
#include <mutex>
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

  // Loads the file; true when it is valid and now in force.
  bool reload(const std::string& why);
  // Reloads when the file changed since the last load (content replaced, edited in place).
  bool reload_if_changed();
  RulesPtr current() const;
  std::string last_error() const;

private:
  std::string signature() const;   // inode, size and mtime of the file
  // At the first load: the rules the store says were in force before (version, and the rules when
  // their text is stored and still valid).
  RulesChange stored_rules() const;

  std::string m_path;
  Store* m_store;
  mutable std::mutex m_mutex;
  RulesPtr m_rules;
  std::string m_text;        // the text of m_rules
  std::string m_error;
  std::string m_signature;
  RulesChanged m_on_change;
};

} // namespace h2r
