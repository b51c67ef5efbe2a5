// {base}/Groups: the part of Zoom's SCIM2 group endpoints h2r uses (find, read, create, add/remove
// members). Each call is counted per route in GET /_sim/stats ("POST /Groups": creates tried).
#include "http_util.hpp"
#include "routes.hpp"

#include <regex>

namespace zoom_sim {

namespace {

using nlohmann::json;

// Ids of `[{"value":"<id>"},…]`; false when the shape is wrong.
bool member_ids(const json& value, std::vector<std::string>& out) {
  if (!value.is_array()) {
    return false;
  }
  for (const json& member : value.get_ref<const json::array_t&>()) {
    if (!member.is_object() || !member.contains("value") || !member["value"].is_string()) {
      return false;
    }
    out.push_back(member["value"].get<std::string>());
  }
  return true;
}

// Reads add/remove member operations; answers 400 and returns false on anything else.
bool read_member_ops(const json& body, std::vector<std::string>& add, std::vector<std::string>& remove,
                     httplib::Response& res) {
  static const std::regex k_member_filter(R"re(^members\[\s*value\s+eq\s+"([^"]*)"\s*\]$)re", std::regex::icase);
  if (!body.contains("Operations") || !body.at("Operations").is_array()) {
    send_scim_error(res, 400, "Operations is required.", "invalidSyntax");
    return false;
  }
  for (const json& op : body.at("Operations").get_ref<const json::array_t&>()) {
    const std::string kind = op.is_object() ? op.value("op", std::string{}) : std::string{};
    const std::string path = op.is_object() ? op.value("path", std::string{}) : std::string{};
    std::smatch match;
    bool ok = false;
    if (iequals(kind, "add") && iequals(path, "members") && op.contains("value")) {
      ok = member_ids(op["value"], add);
    } else if (iequals(kind, "remove") && std::regex_match(path, match, k_member_filter)) {
      remove.push_back(match[1].str());
      ok = true;
    } else if (iequals(kind, "remove") && iequals(path, "members") && op.contains("value")) {
      ok = member_ids(op["value"], remove);
    }
    if (!ok) {
      send_scim_error(res, 400, "Unsupported group operation: " + op.dump(), "invalidValue");
      return false;
    }
  }
  return true;
}

void send_group_reply(httplib::Response& res, const StoreReply& reply, const std::string& id, int ok_status) {
  switch (reply.status) {
  case StoreStatus::ok:
    if (ok_status == 204) {
      res.status = 204;
    } else {
      send_json(res, ok_status, reply.value);
    }
    break;
  case StoreStatus::unknown_member:
    send_scim_error(res, 400, "User does not exist: " + reply.value.get<std::string>(), "invalidValue");
    break;
  default:
    send_scim_error(res, 404, "Group does not exist: " + id);
  }
}

} // namespace

void register_group_routes(httplib::Server& server, SimState& sim) {
  const std::string base = sim.options.users_base + "/Groups";
  const std::string prefix = base + "/";
  const std::string one = regex_escape(base) + "/(.+)";

  server.Get(regex_escape(base),
             guarded(sim, "GET /Groups", RateCategory::medium, [&sim](const httplib::Request& req, httplib::Response& res) {
               std::optional<std::string> name;
               size_t start_index = 1;
               size_t count = 0;
               if (!read_eq_filter(req, res, "displayName", name) || !read_paging(req, res, start_index, count)) {
                 return;
               }
               const Page page = sim.store.list_groups(name, start_index, count);
               send_json(res, 200, list_response(page.total, start_index, page.items));
             }));

  server.Post(regex_escape(base),
              guarded(sim, "POST /Groups", RateCategory::light, [&sim](const httplib::Request& req, httplib::Response& res) {
                const auto body = read_json_body(req, res);
                if (!body) {
                  return;
                }
                if (!body->contains("displayName") || !(*body)["displayName"].is_string() ||
                    (*body)["displayName"].get_ref<const std::string&>().empty()) {
                  send_scim_error(res, 400, "displayName is required.", "invalidValue");
                  return;
                }
                const StoreReply reply = sim.store.create_group((*body)["displayName"].get<std::string>(), true);
                if (reply.status == StoreStatus::group_name_taken) {
                  send_scim_error(res, 409, "Group name already exists.", "uniqueness");
                  return;
                }
                send_json(res, 201, reply.value);
              }));

  server.Get(one, guarded(sim, "GET /Groups/{id}", RateCategory::light,
                          [&sim, prefix](const httplib::Request& req, httplib::Response& res) {
                            const std::string id = path_tail(req, prefix).value_or("");
                            send_group_reply(res, sim.store.get_group(id), id, 200);
                          }));

  server.Patch(one, guarded(sim, "PATCH /Groups/{id}", RateCategory::light,
                            [&sim, prefix](const httplib::Request& req, httplib::Response& res) {
                              const std::string id = path_tail(req, prefix).value_or("");
                              const auto body = read_json_body(req, res);
                              std::vector<std::string> add;
                              std::vector<std::string> remove;
                              if (body && read_member_ops(*body, add, remove, res)) {
                                if (!remove.empty() && sim.faults.fail_group_remove()) {
                                  send_zoom_error(res, 503, 503, "Internal error. Please try again later.");
                                  return;
                                }
                                send_group_reply(res, sim.store.change_members(id, add, remove), id, 204);
                              }
                            }));
}

} // namespace zoom_sim
