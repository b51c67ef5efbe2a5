#include "service/rules_holder.hpp"

#include "core/text.hpp"
#include <spdlog/spdlog.h>

namespace h2r {

std::string RulesHolder::signature() const {
  struct stat st {};
  if (::stat(m_path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

bool RulesHolder::reload(const std::string& why) {
  const std::string sig = signature();
  auto loaded = load_rules_file(m_path);
  std::lock_guard lock(m_mutex);
  m_signature = sig;
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
    if (m_store) (void)m_store->set_meta("rules.error", messages);
    return false;
  }
  for (const auto& w : (*loaded)->warnings()) spdlog::warn("rules.warning {}", escape_for_log(w.to_string(), 2000, ""));
  const bool changed = !m_rules || m_rules->version() != (*loaded)->version();
  m_rules = *loaded;
  m_error.clear();
  if (changed) spdlog::info("rules.loaded file=\"{}\" version={} trigger={}", escape_for_log(m_path), m_rules->version(), why);
  if (m_store) {
    (void)m_store->set_meta("rules.version", m_rules->version());
    (void)m_store->set_meta("rules.error", "");
  }
  return true;
}

bool RulesHolder::reload_if_changed() {
  {
    std::lock_guard lock(m_mutex);
    if (signature() == m_signature) return false;
  }
  return reload("file changed");
}

RulesPtr RulesHolder::current() const {
  std::lock_guard lock(m_mutex);
  return m_rules;
}

std::string RulesHolder::last_error() const {
  std::lock_guard lock(m_mutex);
  return m_error;
}

} // namespace h2r
