#include "daemon/rules_holder.hpp"

#include "store/meta_keys.hpp"
#include "yaml/yaml_bounds.hpp"
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
  // The text is read once: the version, the rules and the text stored for the next start all match.
  std::string text;
  const bool read = yaml::read_file_prefix(m_path, yaml::Limits{}.max_bytes, text);
  auto loaded = read ? load_rules_text(text, m_path) : load_rules_file(m_path);
  std::unique_lock lock(m_mutex);
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
    if (m_store) (void)m_store->set_meta(k_meta_rules_error, messages);
    return false;
  }
  for (const auto& w : (*loaded)->warnings()) spdlog::warn("rules.warning {}", escape_for_log(w.to_string(), 2000, ""));
  const bool first = !m_rules;
  RulesChange change = first ? stored_rules() : RulesChange{m_rules, m_rules->version(), m_text, nullptr};
  const bool changed = change.before_version != (*loaded)->version();
  m_rules = *loaded;
  m_text = read ? text : "";
  m_error.clear();
  change.now = m_rules;
  if (first || changed) spdlog::info("rules.loaded file=\"{}\" version={} trigger={}", escape_for_log(m_path), m_rules->version(), why);
  if (m_store) {
    (void)m_store->set_meta(k_meta_rules_version, m_rules->version());
    (void)m_store->set_meta(k_meta_rules_error, "");
    if (first || changed) (void)m_store->set_meta(k_meta_rules_text, m_text);   // the base of the next start's resync
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
