// RulesHolder: the rules in force, swapped atomically between events. A reload parses into a staging
// copy and validates it; on failure the rules in force stay and the error is kept for `status`.
#pragma once

#include "rules/rules.hpp"
#include "store/store.hpp"

#include <mutex>
#include <sys/stat.h>

namespace h2r {

class RulesHolder {
public:
  RulesHolder(std::string path, Store* store) : m_path(std::move(path)), m_store(store) {}

  // Loads the file; true when it is valid and now in force.
  bool reload(const std::string& why);
  // Reloads when the file changed since the last load (content replaced, edited in place).
  bool reload_if_changed();
  RulesPtr current() const;
  std::string last_error() const;

private:
  std::string signature() const;   // inode, size and mtime of the file

  std::string m_path;
  Store* m_store;
  mutable std::mutex m_mutex;
  RulesPtr m_rules;
  std::string m_error;
  std::string m_signature;
};

} // namespace h2r
