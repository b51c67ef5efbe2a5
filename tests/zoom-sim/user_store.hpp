// UserStore: the Zoom account's users and groups, as SCIM JSON. Thread-safe (one mutex).
// Uniqueness checks and userName lookups use hash indexes, so they cost the same at any account size.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace zoom_sim {

enum class StoreStatus {
  ok,
  not_found,             // no user (or group) with that id
  user_name_taken,       // another user has this userName (case-insensitive)
  employee_number_taken, // another user has this enterprise employeeNumber
  unknown_member,        // a group change names a user id that does not exist
  group_name_taken,      // another group has this displayName (case-insensitive)
};

// The outcome of a store call: on `ok`, `value` is the full resource after the call.
struct StoreReply {
  StoreStatus status = StoreStatus::ok;
  nlohmann::json value;
};

// One page of a user or group listing; `items` are full resources.
struct Page {
  size_t total = 0;
  std::vector<nlohmann::json> items;
};

class UserStore {
public:
  // `seed` makes generated ids reproducible.
  explicit UserStore(uint64_t seed);

  // Absolute URL of the SCIM base ("http://127.0.0.1:PORT/scim2"), used for meta.location.
  // Call before serving.
  void set_location_base(std::string base);

  // Creates a user from a SCIM body. `id`, `meta` in the body are ignored unless `keep_id` (seeding
  // through /_sim, where a test may choose the id). `active` is true unless `keep_active` and the
  // body says otherwise. Checks userName and employeeNumber uniqueness.
  StoreReply create_user(const nlohmann::json& body, bool keep_id, bool keep_active);
  StoreReply get_user(const std::string& id) const;
  // Zoom's partial PUT: given fields replace, objects merge recursively, null removes, `schemas`
  // are united; `id` and `meta` cannot change.
  StoreReply update_user(const std::string& id, const nlohmann::json& body);
  // RFC 7386 merge patch of arbitrary fields, no checks (drift behind the daemon's back).
  StoreReply merge_user(const std::string& id, const nlohmann::json& patch);
  StoreReply set_active(const std::string& id, bool active);
  bool delete_user(const std::string& id);
  // Users in creation order, optionally only the one whose userName equals `user_name`
  // (case-insensitive). `start_index` is 1-based.
  Page list_users(const std::optional<std::string>& user_name, size_t start_index, size_t count) const;
  nlohmann::json all_users() const;
  void clear_users();

  // `unique`: another group of that displayName (case aside) gives group_name_taken, as SCIM POST
  // /Groups does; /_sim/groups seeds without the check.
  StoreReply create_group(const std::string& display_name, bool unique = false);
  StoreReply get_group(const std::string& id) const;
  Page list_groups(const std::optional<std::string>& display_name, size_t start_index, size_t count) const;
  // Adds then removes member user ids; unknown ids to add give unknown_member and change nothing.
  StoreReply change_members(const std::string& id, const std::vector<std::string>& add,
                            const std::vector<std::string>& remove);
  nlohmann::json all_groups() const;

private:
  struct Group {
    std::string id;
    std::string display_name;
    std::vector<std::string> members;
  };

  std::string new_id(char prefix);
  StoreStatus check_unique(const nlohmann::json& user, const std::string& self_id) const;
  void touch(nlohmann::json& user, bool created);
  // Index upkeep: every change to a user's userName or employeeNumber (add, update, merge, delete, clear)
  // unindexes the stored JSON before and indexes the new JSON after. Caller holds m_mutex.
  void index_user(const std::string& id, const nlohmann::json& user);
  void unindex_user(const std::string& id, const nlohmann::json& user);
  nlohmann::json group_json(const Group& group) const;

  mutable std::mutex m_mutex;
  std::mt19937_64 m_rng;
  std::string m_location_base;
  std::map<std::string, nlohmann::json> m_users;
  std::vector<std::string> m_user_order; // creation order, for stable paging
  // Lower-cased userName ("" when absent) → ids, and non-empty employeeNumber → ids. Sets, not single
  // ids: /_sim merges may leave duplicates behind the store's back. Ordered like m_users so a check
  // reports the same conflict a scan of m_users would.
  std::unordered_map<std::string, std::set<std::string>> m_ids_by_name;
  std::unordered_map<std::string, std::set<std::string>> m_ids_by_number;
  std::unordered_map<std::string, uint64_t> m_user_seq; // id → creation number (orders filtered lists)
  uint64_t m_next_seq = 0;
  std::vector<Group> m_groups;
};

} // namespace zoom_sim
