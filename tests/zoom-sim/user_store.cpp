#include "user_store.hpp"

#include "http_util.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <string_view>

namespace zoom_sim {

namespace {

using nlohmann::json;

// Characters of generated ids. Every id also carries '&' and one more reserved character, so a
// client that forgets to percent-encode path segments fails visibly.
constexpr std::string_view k_id_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view k_reserved_chars = "+=@:$;,";

std::string employee_number(const json& user) {
  if (!user.contains(k_enterprise_schema) || !user.at(k_enterprise_schema).is_object()) {
    return {};
  }
  const json& ext = user.at(k_enterprise_schema);
  return ext.contains("employeeNumber") && ext.at("employeeNumber").is_string() ? ext.at("employeeNumber").get<std::string>()
                                                                                 : std::string{};
}

std::string user_name(const json& user) { return user.value("userName", std::string{}); }

// The index key of a userName: lower-cased as iequals() compares, so equal keys <=> iequals.
std::string name_key(std::string_view name) {
  std::string key(name);
  for (char& c : key) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return key;
}

// The userName key of a stored user; nullopt when userName is not a string (only a /_sim merge can
// do that), which no lookup can match.
std::optional<std::string> stored_name_key(const json& user) {
  const auto it = user.find("userName");
  if (it == user.end()) {
    return std::string{};
  }
  return it->is_string() ? std::optional(name_key(it->get_ref<const std::string&>())) : std::nullopt;
}

// The first id under `key` that is not `self_id` (the smallest, as a scan in id order meets it).
const std::string* first_other(const std::unordered_map<std::string, std::set<std::string>>& index,
                               const std::string& key, const std::string& self_id) {
  const auto it = index.find(key);
  if (it == index.end()) {
    return nullptr;
  }
  for (const std::string& id : it->second) {  // at most two steps: self_id is at most one of them
    if (id != self_id) {
      return &id;
    }
  }
  return nullptr;
}

void index_remove(std::unordered_map<std::string, std::set<std::string>>& index, const std::string& key,
                  const std::string& id) {
  const auto it = index.find(key);
  if (it != index.end() && it->second.erase(id) > 0 && it->second.empty()) {
    index.erase(it);
  }
}

// Zoom's partial PUT semantics.
void merge_into(json& target, const json& source) {
  for (const auto& [key, value] : source.items()) {
    if (value.is_null()) {
      target.erase(key);
    } else if (value.is_object() && target.contains(key) && target[key].is_object()) {
      merge_into(target[key], value);
    } else {
      target[key] = value;
    }
  }
}

template <class T, class Fn>
Page page_of(const std::vector<T>& all, size_t start_index, size_t count, Fn to_json) {
  Page page;
  page.total = all.size();
  for (size_t i = start_index - 1; i < all.size() && page.items.size() < count; ++i) {
    page.items.push_back(to_json(all[i]));
  }
  return page;
}

} // namespace

UserStore::UserStore(uint64_t seed) : m_rng(seed) {}

void UserStore::set_location_base(std::string base) {
  std::lock_guard lock(m_mutex);
  m_location_base = std::move(base);
}

std::string UserStore::new_id(char prefix) {
  std::uniform_int_distribution<size_t> pick(0, k_id_chars.size() - 1);
  std::uniform_int_distribution<size_t> pick_reserved(0, k_reserved_chars.size() - 1);
  std::string id{prefix, '&'};
  for (int i = 0; i < 6; ++i) {
    id.push_back(k_id_chars[pick(m_rng)]);
  }
  id.push_back(k_reserved_chars[pick_reserved(m_rng)]);
  for (int i = 0; i < 8; ++i) {
    id.push_back(k_id_chars[pick(m_rng)]);
  }
  return id;
}

StoreStatus UserStore::check_unique(const json& user, const std::string& self_id) const {
  const std::string name = user_name(user);
  const std::string number = employee_number(user);
  // A scan of the users in id order would stop at the first one sharing either value, checking the
  // userName first: the smaller of the two first ids decides (a tie is one user matching both).
  const std::string* by_name = first_other(m_ids_by_name, name_key(name), self_id);
  const std::string* by_number = number.empty() ? nullptr : first_other(m_ids_by_number, number, self_id);
  if (by_name != nullptr && (by_number == nullptr || *by_name <= *by_number)) {
    return StoreStatus::user_name_taken;
  }
  return by_number != nullptr ? StoreStatus::employee_number_taken : StoreStatus::ok;
}

void UserStore::index_user(const std::string& id, const json& user) {
  if (const auto key = stored_name_key(user)) {
    m_ids_by_name[*key].insert(id);
  }
  if (const std::string number = employee_number(user); !number.empty()) {
    m_ids_by_number[number].insert(id);
  }
}

void UserStore::unindex_user(const std::string& id, const json& user) {
  if (const auto key = stored_name_key(user)) {
    index_remove(m_ids_by_name, *key, id);
  }
  if (const std::string number = employee_number(user); !number.empty()) {
    index_remove(m_ids_by_number, number, id);
  }
}

void UserStore::touch(json& user, bool created) {
  const std::string now = format_iso(std::chrono::system_clock::now());
  json& meta = user["meta"];
  if (created) {
    meta = {{"resourceType", "User"}, {"created", now}, {"version", "W/\"1\""}};
  } else {
    const std::string old = meta.value("version", std::string("W/\"0\""));
    const long n = std::strtol(old.c_str() + std::min<size_t>(3, old.size()), nullptr, 10);
    meta["version"] = "W/\"" + std::to_string(n + 1) + "\"";
  }
  meta["lastModified"] = now;
  meta["location"] = m_location_base + "/Users/" + percent_encode(user["id"].get<std::string>());
}

StoreReply UserStore::create_user(const json& body, bool keep_id, bool keep_active) {
  std::lock_guard lock(m_mutex);
  json user = body;
  user.erase("meta");
  if (const StoreStatus status = check_unique(user, {}); status != StoreStatus::ok) {
    return {status, {}};
  }
  std::string id = keep_id && body.contains("id") && body["id"].is_string() ? body["id"].get<std::string>() : "";
  if (id.empty() || m_users.count(id) > 0) {
    do {
      id = new_id('u');
    } while (m_users.count(id) > 0);
  }
  user["id"] = id;
  if (!keep_active || !user.contains("active") || !user["active"].is_boolean()) {
    user["active"] = true;
  }
  if (!user.contains("schemas")) {
    user["schemas"] = json::array({k_user_schema});
  }
  touch(user, true);
  m_users[id] = user;
  m_user_order.push_back(id);
  m_user_seq[id] = m_next_seq++;
  index_user(id, user);
  return {StoreStatus::ok, user};
}

StoreReply UserStore::get_user(const std::string& id) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_users.find(id);
  return it == m_users.end() ? StoreReply{StoreStatus::not_found, {}} : StoreReply{StoreStatus::ok, it->second};
}

StoreReply UserStore::update_user(const std::string& id, const json& body) {
  std::lock_guard lock(m_mutex);
  const auto it = m_users.find(id);
  if (it == m_users.end()) {
    return {StoreStatus::not_found, {}};
  }
  json updated = it->second;
  json changes = body;
  changes.erase("id");
  changes.erase("meta");
  json schemas = updated.value("schemas", json::array());
  for (const auto& schema : changes.value("schemas", json::array())) {
    if (std::find(schemas.begin(), schemas.end(), schema) == schemas.end()) {
      schemas.push_back(schema);
    }
  }
  changes.erase("schemas");
  merge_into(updated, changes);
  updated["schemas"] = schemas;
  if (const StoreStatus status = check_unique(updated, id); status != StoreStatus::ok) {
    return {status, {}};
  }
  touch(updated, false);
  unindex_user(id, it->second);
  it->second = updated;
  index_user(id, updated);
  return {StoreStatus::ok, updated};
}

StoreReply UserStore::merge_user(const std::string& id, const json& patch) {
  std::lock_guard lock(m_mutex);
  const auto it = m_users.find(id);
  if (it == m_users.end()) {
    return {StoreStatus::not_found, {}};
  }
  json changes = patch;
  changes.erase("id");
  json merged = it->second;
  merged.merge_patch(changes);
  touch(merged, false);
  unindex_user(id, it->second);
  it->second = std::move(merged);
  index_user(id, it->second);
  return {StoreStatus::ok, it->second};
}

StoreReply UserStore::set_active(const std::string& id, bool active) {
  std::lock_guard lock(m_mutex);
  const auto it = m_users.find(id);
  if (it == m_users.end()) {
    return {StoreStatus::not_found, {}};
  }
  it->second["active"] = active;
  touch(it->second, false);
  return {StoreStatus::ok, it->second};
}

bool UserStore::delete_user(const std::string& id) {
  std::lock_guard lock(m_mutex);
  const auto it = m_users.find(id);
  if (it == m_users.end()) {
    return false;
  }
  unindex_user(id, it->second);
  m_users.erase(it);
  m_user_seq.erase(id);
  std::erase(m_user_order, id);
  for (Group& group : m_groups) {
    std::erase(group.members, id);
  }
  return true;
}

Page UserStore::list_users(const std::optional<std::string>& name, size_t start_index, size_t count) const {
  std::lock_guard lock(m_mutex);
  if (!name) {
    return page_of(m_user_order, start_index, count, [this](const std::string& id) { return m_users.at(id); });
  }
  std::vector<const std::string*> matches;
  if (const auto it = m_ids_by_name.find(name_key(*name)); it != m_ids_by_name.end()) {
    for (const std::string& id : it->second) {
      matches.push_back(&id);
    }
  }
  std::sort(matches.begin(), matches.end(),
            [this](const std::string* a, const std::string* b) { return m_user_seq.at(*a) < m_user_seq.at(*b); });
  return page_of(matches, start_index, count, [this](const std::string* id) { return m_users.at(*id); });
}

json UserStore::all_users() const {
  std::lock_guard lock(m_mutex);
  json out = json::array();
  for (const std::string& id : m_user_order) {
    out.push_back(m_users.at(id));
  }
  return out;
}

void UserStore::clear_users() {
  std::lock_guard lock(m_mutex);
  m_users.clear();
  m_user_order.clear();
  m_user_seq.clear();
  m_ids_by_name.clear();
  m_ids_by_number.clear();
  for (Group& group : m_groups) {
    group.members.clear();
  }
}

json UserStore::group_json(const Group& group) const {
  json members = json::array();
  for (const std::string& member : group.members) {
    const auto it = m_users.find(member);
    members.push_back({{"value", member}, {"display", it == m_users.end() ? "" : user_name(it->second)}});
  }
  return {{"schemas", {k_group_schema}},
          {"id", group.id},
          {"displayName", group.display_name},
          {"members", members},
          {"meta", {{"resourceType", "Group"}, {"location", m_location_base + "/Groups/" + percent_encode(group.id)}}}};
}

StoreReply UserStore::create_group(const std::string& display_name, bool unique) {
  std::lock_guard lock(m_mutex);
  if (unique && std::any_of(m_groups.begin(), m_groups.end(),
                            [&](const Group& g) { return iequals(g.display_name, display_name); })) {
    return {StoreStatus::group_name_taken, {}};
  }
  Group group{new_id('g'), display_name, {}};
  m_groups.push_back(group);
  return {StoreStatus::ok, group_json(group)};
}

StoreReply UserStore::get_group(const std::string& id) const {
  std::lock_guard lock(m_mutex);
  for (const Group& group : m_groups) {
    if (group.id == id) {
      return {StoreStatus::ok, group_json(group)};
    }
  }
  return {StoreStatus::not_found, {}};
}

Page UserStore::list_groups(const std::optional<std::string>& name, size_t start_index, size_t count) const {
  std::lock_guard lock(m_mutex);
  std::vector<const Group*> matches;
  for (const Group& group : m_groups) {
    if (!name || iequals(group.display_name, *name)) {
      matches.push_back(&group);
    }
  }
  return page_of(matches, start_index, count, [this](const Group* group) { return group_json(*group); });
}

StoreReply UserStore::change_members(const std::string& id, const std::vector<std::string>& add,
                                     const std::vector<std::string>& remove) {
  std::lock_guard lock(m_mutex);
  const auto group = std::find_if(m_groups.begin(), m_groups.end(), [&](const Group& g) { return g.id == id; });
  if (group == m_groups.end()) {
    return {StoreStatus::not_found, {}};
  }
  for (const std::string& member : add) {
    if (m_users.count(member) == 0) {
      return {StoreStatus::unknown_member, member};
    }
  }
  for (const std::string& member : add) {
    if (std::find(group->members.begin(), group->members.end(), member) == group->members.end()) {
      group->members.push_back(member);
    }
  }
  for (const std::string& member : remove) {
    std::erase(group->members, member);
  }
  return {StoreStatus::ok, group_json(*group)};
}

json UserStore::all_groups() const {
  std::lock_guard lock(m_mutex);
  json out = json::array();
  for (const Group& group : m_groups) {
    out.push_back(group_json(group));
  }
  return out;
}

} // namespace zoom_sim
