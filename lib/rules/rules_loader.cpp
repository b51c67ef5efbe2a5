// rules.yaml → RuleSet: every problem reported with its line and column, all in one pass.
#include "rules/rule_set.hpp"
#include "rules/scim_paths.hpp"
#include "rules/text_fold.hpp"

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

namespace h2r {
namespace {

// License names Zoom documents for the zoom:1.0:User extension; others only give a warning, as Zoom
// adds names over time.
constexpr std::array<std::string_view, 27> k_known_licenses{
    "zoomOneBizPlus", "zoomOneBusiness", "zoomOneBusinessPlus", "zoomOneEnterprise", "zoomOneEnterprisePlus",
    "zoomOnePro", "zoomUnited", "zoomWhiteboard", "zoomWhiteboardPlus", "zoomWorkplace",
    "zoomWorkplaceBusiness", "zoomWorkplaceBusinessPlus", "zoomWorkplaceEnterprise", "zoomMeetings",
    "zoomWebinar", "zoomEvents", "zoomSessions", "zoomRooms", "zoomPhone", "zoomContactCenter",
    "zoomScheduler", "zoomClips", "zoomDocs", "zoomTranslatedCaptions", "zoomCompliance", "largeMeeting",
    "cloudRecording"};

} // namespace

bool is_known_license(std::string_view name) {
  return std::find(k_known_licenses.begin(), k_known_licenses.end(), name) != k_known_licenses.end();
}

namespace {

// True for -?(0|[1-9][0-9]*)(\.[0-9]+)? of at most 15 digits (exact as a JSON number).
bool is_number(const std::string& s) {
  std::size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  const std::size_t int_start = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  const std::size_t int_digits = i - int_start;
  if (int_digits == 0 || (int_digits > 1 && s[int_start] == '0')) return false;
  std::size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
    if (frac_digits == 0) return false;
  }
  return i == s.size() && int_digits + frac_digits <= 15;
}

class Loader {
public:
  Loader(yaml::Reader& reader, RuleSet& out) : m_reader(reader), m_out(out) {}

  void load(const YAML::Node& root) {
    if (!root.IsDefined() || root.IsNull()) {
      m_reader.error_at(1, 1, "the rules file is empty: it needs version, targets, roles and attributes");
      return;
    }
    auto top = m_reader.map(root, "the rules file",
                            {"version", "targets", "roles", "on_no_role", "attributes", "lifecycle", "hr_fields", "tables"});
    if (!top) return;
    for (std::string_view key : {"version", "targets", "roles", "attributes"}) m_reader.require(*top, key, "the rules file");
    if (const auto* n = top->get("version"))
      if (!n->IsScalar() || n->Scalar() != "1")
        m_reader.error(*n, "version must be 1 (the only rules format so far), got " + yaml::describe(*n));
    if (const auto* n = top->get("tables")) tables(*n);  // before the templates that name them (groups, attributes)
    if (const auto* n = top->get("targets")) targets(*n);
    if (const auto* n = top->get("roles")) roles(*n);
    if (const auto* n = top->get("on_no_role"))
      if (auto v = m_reader.choice(*n, "on_no_role", {"deprovision", "keep"}))
        m_out.on_no_role = *v == "keep" ? OnNoRole::keep : OnNoRole::deprovision;
    if (const auto* e = top->entry("attributes")) attributes(e->key_node, e->value);
    if (const auto* n = top->get("lifecycle")) lifecycle(*n);
    if (const auto* n = top->get("hr_fields")) hr_fields(*n);
  }

  // hr_fields: [zone, badge]: the HR fields beyond the event format's that conditions and the login may
  // use (check_field_references). At most k_max_hr_fields names, each a field name as templates take it.
  void hr_fields(const YAML::Node& node) {
    constexpr std::size_t k_max_hr_fields = 256, k_max_name = 64;
    auto items = m_reader.list(node, "hr_fields");
    if (!items) return;
    if (items->size() > k_max_hr_fields) {
      m_reader.error(node, "hr_fields names at most " + std::to_string(k_max_hr_fields) + " fields, got " +
                               std::to_string(items->size()));
      return;
    }
    for (std::size_t i = 0; i < items->size(); ++i) {
      const std::string what = "hr_fields[" + std::to_string(i) + "]";
      auto name = m_reader.non_empty_string((*items)[i], what);
      if (!name) continue;
      const bool valid = name->size() <= k_max_name && std::all_of(name->begin(), name->end(), is_field_char);
      if (!valid) {
        m_reader.error((*items)[i], what + " must be a field name (letters, digits, _ - . only, at most " +
                                        std::to_string(k_max_name) + " bytes), got " + yaml::describe((*items)[i]));
        continue;
      }
      if (std::find(m_out.hr_fields.begin(), m_out.hr_fields.end(), *name) == m_out.hr_fields.end())
        m_out.hr_fields.push_back(*name);
    }
  }

  // tables: { cost_centre: { Sales: CC-100, "*": CC-999 } }: lookup tables for the template filter
  // map(name); "*" is the value for keys not listed. Keys match after Unicode case folding.
  void tables(const YAML::Node& node) {
    constexpr std::size_t k_max_tables = 256, k_max_entries = 10'000, k_max_text = 1024, k_max_name = 64;
    if (!node.IsMap()) {
      m_reader.error(node, "tables must be a map of table name to a map of value to replacement, e.g. "
                           "{ cost_centre: { Sales: CC-100, \"*\": CC-999 } }, got " + yaml::describe(node));
      return;
    }
    if (node.size() > k_max_tables) {
      m_reader.error(node, "tables has at most " + std::to_string(k_max_tables) + " tables, got " + std::to_string(node.size()));
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node entries = it->second;
      const std::string name = key.IsScalar() ? key.Scalar() : std::string();
      if (name.empty() || name.size() > k_max_name || !std::all_of(name.begin(), name.end(), is_field_char)) {
        m_reader.error(key, "a table name must be a name of letters, digits, _ - . (at most " +
                                std::to_string(k_max_name) + " bytes), got " + yaml::describe(key));
        continue;
      }
      const std::string what = "tables." + name;
      if (m_out.tables.contains(name)) {
        m_reader.error(key, "table '" + name + "' is defined twice");
        continue;
      }
      if (!entries.IsMap()) {
        m_reader.error(entries, what + " must be a map of value to replacement, e.g. { Sales: CC-100 }, got " +
                                    yaml::describe(entries));
        continue;
      }
      if (entries.size() > k_max_entries) {
        m_reader.error(entries, what + " has at most " + std::to_string(k_max_entries) + " entries, got " +
                                    std::to_string(entries.size()));
        continue;
      }
      auto table = std::make_shared<TemplateTable>();
      for (auto e = entries.begin(); e != entries.end(); ++e) {
        const YAML::Node from = e->first;
        const YAML::Node to = e->second;
        if (!from.IsScalar() || from.Scalar().empty() || from.Scalar().size() > k_max_text) {
          m_reader.error(from, "a key of " + what + " must be a non-empty text of at most " + std::to_string(k_max_text) +
                                   " bytes, got " + yaml::describe(from));
          continue;
        }
        const std::string entry = what + "." + from.Scalar();
        if (!to.IsScalar() || to.Scalar().size() > k_max_text) {
          m_reader.error(to, entry + " must be a text of at most " + std::to_string(k_max_text) + " bytes, got " +
                                 yaml::describe(to));
          continue;
        }
        const bool fresh = from.Scalar() == "*" ? !std::exchange(table->fallback, to.Scalar()).has_value()
                                                : table->entries.emplace(fold_case(from.Scalar()), to.Scalar()).second;
        if (!fresh) m_reader.error(from, entry + ": the key appears twice (keys match whatever their case)");
      }
      m_out.tables.emplace(name, std::move(table));
    }
  }

private:
  std::optional<Condition> when(const yaml::MapView& map, const std::string& what) {
    const auto* n = map.get("when");
    if (!n) return std::nullopt;
    return Condition::parse(m_reader, *n, what + ".when", m_pattern_budget);
  }

  void targets(const YAML::Node& node) {
    auto items = m_reader.list(node, "targets");
    if (!items) return;
    if (items->empty()) m_reader.error(node, "targets needs at least one entry such as - connection: zoom-main");
    std::map<std::string, int> first_line;
    for (std::size_t i = 0; i < items->size(); ++i) {
      const std::string what = "targets[" + std::to_string(i) + "]";
      auto map = m_reader.map((*items)[i], what, {"connection", "when"});
      if (!map) continue;
      TargetRule target;
      target.when = when(*map, what);
      if (!m_reader.require(*map, "connection", what)) continue;
      const YAML::Node& name_node = *map->get("connection");
      auto name = m_reader.non_empty_string(name_node, what + ".connection");
      if (!name) continue;
      const int line = yaml::position(name_node).first;
      if (auto [it, fresh] = first_line.emplace(*name, line); !fresh) {
        m_reader.error(name_node, "connection '" + *name + "' is already a target at line " + std::to_string(it->second));
        continue;
      }
      target.connection = *name;
      std::tie(target.line, target.column) = yaml::position(name_node);
      m_out.targets.push_back(std::move(target));
    }
  }

  void roles(const YAML::Node& node) {
    auto items = m_reader.list(node, "roles");
    if (!items) return;
    if (items->empty()) m_reader.error(node, "roles needs at least one role (a role without `when` matches everyone)");
    std::map<std::string, int> first_line;
    std::optional<std::pair<std::string, int>> catch_all;  // the first role without `when`: name, line
    for (std::size_t i = 0; i < items->size(); ++i) {
      const std::string what = "roles[" + std::to_string(i) + "]";
      auto map = m_reader.map((*items)[i], what, {"name", "when", "zoom"});
      if (!map) continue;
      RoleRule role;
      if (m_reader.require(*map, "name", what)) {
        const YAML::Node& name_node = *map->get("name");
        if (auto name = m_reader.non_empty_string(name_node, what + ".name")) {
          role.name = *name;
          const int line = yaml::position(name_node).first;
          if (auto [it, fresh] = first_line.emplace(*name, line); !fresh)
            m_reader.error(name_node, "duplicate role name '" + *name + "' (first defined at line " +
                                          std::to_string(it->second) + ")");
        }
      }
      role.when = when(*map, what);
      if (const auto* z = map->get("zoom")) zoom(*z, what + ".zoom", role);
      if (catch_all)
        m_reader.warning((*items)[i], "role '" + role.name + "' can never match: role '" + catch_all->first +
                                          "' at line " + std::to_string(catch_all->second) +
                                          " has no `when` and matches everyone first");
      else if (!map->get("when"))
        catch_all.emplace(role.name, yaml::position((*items)[i]).first);
      m_out.roles.push_back(std::move(role));
    }
  }

  void zoom(const YAML::Node& node, const std::string& what, RoleRule& role) {
    auto map = m_reader.map(node, what, {"user_type", "licenses", "role", "groups"});
    if (!map) return;
    if (const auto* n = map->get("user_type"))
      if (auto v = m_reader.choice(*n, what + ".user_type", {"Basic", "Licensed", "On-Prem"})) role.user_type = *v;
    if (const auto* n = map->get("role"))
      if (auto v = m_reader.non_empty_string(*n, what + ".role")) role.zoom_role = *v;
    if (const auto* n = map->get("licenses")) licenses(*n, what + ".licenses", role);
    if (const auto* n = map->get("groups")) {
      if (auto items = m_reader.list(*n, what + ".groups")) {
        for (std::size_t i = 0; i < items->size(); ++i) group((*items)[i], what + ".groups[" + std::to_string(i) + "]", role);
      }
    }
  }

  // A groups entry is a template (h2r-rules(5), Templates): one that does not parse — an unbalanced
  // brace, `{depart ment}` — is an error naming the role and the entry, never a literal group name.
  void group(const YAML::Node& node, const std::string& what, RoleRule& role) {
    auto text = m_reader.non_empty_string(node, what);
    if (!text) return;
    auto parsed = Template::parse(*text, &m_out.tables);
    if (!parsed) {
      m_reader.error(node, what + " of role '" + role.name + "': group \"" + *text + "\" is not a template h2r can render: " +
                               parsed.error().message + " (at character " + std::to_string(parsed.error().offset + 1) +
                               "; write {{ and }} for literal braces)");
      return;
    }
    if (std::any_of(role.groups.begin(), role.groups.end(), [&](const GroupRule& g) { return g.text == *text; })) return;
    GroupRule rule{*text, std::move(*parsed), 0, 0};
    std::tie(rule.line, rule.column) = yaml::position(node);
    role.groups.push_back(std::move(rule));
  }

  void licenses(const YAML::Node& node, const std::string& what, RoleRule& role) {
    if (!node.IsMap()) {
      m_reader.error(node, what + " must be a map of license name to true/false, e.g. { zoomOneBizPlus: true }, got " +
                               yaml::describe(node));
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar() || key.Scalar().empty()) {
        m_reader.error(key, "a license name in " + what + " must be a plain name");
        continue;
      }
      const std::string& name = key.Scalar();
      if (role.licenses.contains(name)) {
        m_reader.error(key, "license '" + name + "' appears twice in " + what);
        continue;
      }
      if (std::find(k_known_licenses.begin(), k_known_licenses.end(), name) == k_known_licenses.end())
        m_reader.warning(key, "unknown license name '" + name + "' in " + what +
                                  " (sent to Zoom as written; known: zoomOneBizPlus, zoomOneBusiness, zoomOnePro, "
                                  "zoomUnited, zoomWhiteboard, zoomWorkplace, zoomMeetings, zoomWebinar, zoomEvents, "
                                  "zoomRooms, zoomPhone, largeMeeting, ...)");
      if (auto b = m_reader.boolean(it->second, what + "." + name)) role.licenses[name] = *b;
    }
  }

  void attributes(const YAML::Node& key_node, const YAML::Node& node) {
    if (!node.IsMap()) {
      m_reader.error(node, "attributes must be a map of SCIM path to template, e.g. userName: \"{email}\", got " +
                               yaml::describe(node));
      return;
    }
    std::map<std::string, int> first_line;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        m_reader.error(key, "an attribute path must be a plain name such as name.givenName");
        continue;
      }
      const std::string& path = key.Scalar();
      ScimValueType type = ScimValueType::text;
      if (!is_known_scim_path(path, &type)) {
        m_reader.error(key, "unknown attribute path '" + path + "' (known: " + known_scim_paths() + ")");
        continue;
      }
      if (auto [first, fresh] = first_line.emplace(path, yaml::position(key).first); !fresh) {
        m_reader.error(key, "attribute '" + path + "' is set twice (first at line " + std::to_string(first->second) + ")");
        continue;
      }
      attribute(path, type, value);
    }
    if (!first_line.contains("userName"))
      m_reader.error(key_node, "attributes needs userName (the Zoom login e-mail), e.g. userName: \"{email}\"");
  }

  void attribute(const std::string& path, ScimValueType type, const YAML::Node& value) {
    const std::string what = "attributes." + path;
    if (!value.IsScalar()) {
      m_reader.error(value, what + " must be a template such as \"{first_name}\" or a literal true/false/number, got " +
                                yaml::describe(value));
      return;
    }
    const std::string& text = value.Scalar();
    const bool plain = value.Tag() == "?";
    AttributeRule rule{path, std::nullopt, nullptr};
    std::tie(rule.line, rule.column) = yaml::position(value);
    if (plain && (text == "true" || text == "false")) {
      rule.literal = text == "true";
    } else if (plain && is_number(text)) {
      rule.literal = text.find('.') == std::string::npos ? nlohmann::json(std::stoll(text)) : nlohmann::json(std::stod(text));
    } else {
      auto parsed = Template::parse(text, &m_out.tables);
      if (!parsed) {
        m_reader.error(value, what + ": " + parsed.error().message + " (at character " +
                                  std::to_string(parsed.error().offset + 1) + " of the template)");
        return;
      }
      rule.value = std::move(*parsed);
    }
    if (type == ScimValueType::boolean && !rule.literal.is_boolean()) {
      m_reader.error(value, what + " must be true or false, got " + yaml::describe(value));
      return;
    }
    if (path == "userName" && !rule.value) {
      m_reader.error(value, "attributes.userName must be a template such as \"{email}\", got " + yaml::describe(value));
      return;
    }
    m_out.attributes.push_back(std::move(rule));
  }

  void lifecycle(const YAML::Node& node);

  yaml::Reader& m_reader;
  RuleSet& m_out;
  Condition::PatternBudget m_pattern_budget;
};

void Loader::lifecycle(const YAML::Node& node) {
  auto map = m_reader.map(node, "lifecycle", {"hire", "leave", "terminate", "supervised", "guard", "resync"});
  if (!map) return;
  Lifecycle& out = m_out.lifecycle;
  if (const auto* n = map->get("hire"))
    if (auto hire = m_reader.map(*n, "lifecycle.hire", {"lead_days"}))
      if (const auto* d = hire->get("lead_days"))
        if (auto v = m_reader.integer(*d, "lifecycle.hire.lead_days", 0, 365)) out.hire_lead_days = static_cast<int>(*v);
  if (const auto* n = map->get("leave")) {
    if (auto leave = m_reader.map(*n, "lifecycle.leave", {"long_term", "fmla", "legal", "security"})) {
      for (const auto& entry : leave->entries()) {
        if (auto v = m_reader.choice(entry.value, "lifecycle.leave." + entry.key, {"keep", "deactivate"}))
          out.leave[*parse_leave_type(entry.key)] = *v == "keep" ? LeaveAction::keep : LeaveAction::deactivate;
      }
    }
  }
  if (const auto* n = map->get("terminate"))
    if (auto terminate = m_reader.map(*n, "lifecycle.terminate", {"action"}))
      if (const auto* a = terminate->get("action"))
        if (auto v = m_reader.choice(*a, "lifecycle.terminate.action", {"deactivate", "delete"}))
          out.terminate = *v == "delete" ? TerminateAction::remove : TerminateAction::deactivate;
  if (const auto* n = map->get("resync"))
    if (auto resync = m_reader.map(*n, "lifecycle.resync", {"deprovision"}))
      if (const auto* d = resync->get("deprovision"))
        if (auto v = m_reader.choice(*d, "lifecycle.resync.deprovision", {"supervised", "auto"}))
          out.resync_deprovision_supervised = *v == "supervised";
  if (const auto* n = map->get("supervised")) {
    if (auto items = m_reader.list(*n, "lifecycle.supervised")) {
      for (const auto& item : *items) {
        auto type = item.IsScalar() ? parse_event_type(item.Scalar()) : std::nullopt;
        if (type)
          out.supervised.insert(*type);
        else
          m_reader.error(item, "lifecycle.supervised entries must be hire, update, leave, return, terminate, "
                               "rehire or resync, got " + yaml::describe(item));
      }
    }
  }
  if (const auto* n = map->get("guard"))
    if (auto guard = m_reader.map(*n, "lifecycle.guard", {"max", "per", "max_deactivations_per_cycle"})) {
      const auto* m = guard->get("max");
      const auto* old = guard->get("max_deactivations_per_cycle");
      if (m && old) m_reader.error(*old, "lifecycle.guard: max and max_deactivations_per_cycle (its old name) are both set; keep max");
      const char* name = m ? "lifecycle.guard.max" : "lifecycle.guard.max_deactivations_per_cycle";
      if (!m) m = old;
      if (m)
        if (auto v = m_reader.integer(*m, name, 0, 1'000'000)) out.guard_max = static_cast<int>(*v);
      if (const auto* p = guard->get("per"))
        if (auto v = m_reader.duration(*p, "lifecycle.guard.per")) {
          if (*v < k_guard_per_min || *v > k_guard_per_max)
            m_reader.error(*p, "lifecycle.guard.per must be between 1s and 7d, got " + yaml::describe(*p));
          else
            out.guard_per = *v;
        }
    }
}

} // namespace

void parse_rule_set(const std::string& text, const std::string& source, RuleSet& out, Diagnostics& diagnostics) {
  yaml::Reader reader(source, diagnostics);
  auto root = reader.parse(text);
  if (!root) return;
  Loader(reader, out).load(*root);
}

} // namespace h2r
