// {base}/Users: Zoom's SCIM2 user endpoints.
#include "http_util.hpp"
#include "routes.hpp"

#include <algorithm>

namespace zoom_sim {

namespace {

using nlohmann::json;

constexpr const char* k_bad_patch = "The request json did not contains valid active field.";

bool looks_like_email(const std::string& text) {
  const size_t at = text.find('@');
  if (at == 0 || at == std::string::npos || text.find('@', at + 1) != std::string::npos) {
    return false;
  }
  const std::string domain = text.substr(at + 1);
  const size_t dot = domain.find('.');
  return dot != std::string::npos && dot > 0 && domain.back() != '.' &&
         std::none_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '"'; });
}

bool has_schema(const json& body, const char* schema) {
  if (!body.contains("schemas") || !body.at("schemas").is_array()) {
    return false;
  }
  const json::array_t& schemas = body.at("schemas").get_ref<const json::array_t&>();
  return std::find(schemas.begin(), schemas.end(), json(schema)) != schemas.end();
}

// What Zoom leaves out of list results: license fields, manager, organization, costCenter.
json list_view(json user) {
  user.erase(k_license_schema);
  if (user.contains("schemas") && user["schemas"].is_array()) {
    std::erase(user["schemas"].get_ref<json::array_t&>(), json(k_license_schema));
  }
  if (user.contains(k_enterprise_schema) && user[k_enterprise_schema].is_object()) {
    for (const char* field : {"manager", "organization", "costCenter"}) {
      user[k_enterprise_schema].erase(field);
    }
  }
  return user;
}

// Answers a store failure; `ok` is not expected here.
void send_store_error(httplib::Response& res, const StoreReply& reply, const std::string& id) {
  switch (reply.status) {
  case StoreStatus::not_found:
    send_scim_error(res, 404, "User does not exist: " + id);
    break;
  case StoreStatus::user_name_taken:
    send_scim_error(res, 409, "User already exists", "uniqueness");
    break;
  case StoreStatus::employee_number_taken:
    send_scim_error(res, 400, "employeeNumber already exists", "uniqueness");
    break;
  default:
    send_scim_error(res, 500, "Unexpected store failure");
  }
}

// Checks a create or update body: the core User schema is named, and userName (required on
// create) is an e-mail address. Answers 400 and returns false otherwise.
bool valid_user_body(const json& body, bool creating, httplib::Response& res) {
  if (!has_schema(body, k_user_schema)) {
    send_scim_error(res, 400, std::string("schemas must contain ") + k_user_schema, "invalidSyntax");
    return false;
  }
  const bool has_name = body.contains("userName");
  if ((creating || has_name) &&
      (!has_name || !body.at("userName").is_string() || !looks_like_email(body.at("userName").get<std::string>()))) {
    send_scim_error(res, 400, "userName must be an e-mail address.", "invalidValue");
    return false;
  }
  return true;
}

// The `active` value a PATCH asks for: {"op":"replace","value":{"active":b}} or
// {"op":"replace","path":"active","value":b}. nullopt when the body is not such a request.
std::optional<bool> requested_active(const json& body) {
  if (!body.contains("Operations") || !body.at("Operations").is_array() || body.at("Operations").empty()) {
    return std::nullopt;
  }
  std::optional<bool> active;
  for (const json& op : body.at("Operations").get_ref<const json::array_t&>()) {
    if (!op.is_object() || !iequals(op.value("op", std::string{}), "replace") || !op.contains("value")) {
      return std::nullopt;
    }
    const json& value = op["value"];
    const std::string path = op.value("path", std::string{});
    if (path.empty() && value.is_object() && value.contains("active") && value["active"].is_boolean()) {
      active = value["active"].get<bool>();
    } else if (iequals(path, "active") && value.is_boolean()) {
      active = value.get<bool>();
    } else {
      return std::nullopt;
    }
  }
  return active;
}

struct UserRoutes {
  SimState& sim;
  std::string prefix; // "{base}/Users/"

  std::optional<std::string> user_id(const httplib::Request& req, httplib::Response& res) const {
    auto id = path_tail(req, prefix);
    if (!id) {
      send_scim_error(res, 404, "User does not exist.");
    }
    return id;
  }

  void list(const httplib::Request& req, httplib::Response& res) const {
    std::optional<std::string> user_name;
    size_t start_index = 1;
    size_t count = 0;
    if (!read_eq_filter(req, res, "userName", user_name) || !read_paging(req, res, start_index, count)) {
      return;
    }
    const Page page = sim.store.list_users(user_name, start_index, count);
    json items = json::array();
    for (const json& user : page.items) {
      items.push_back(list_view(user));
    }
    send_json(res, 200, list_response(page.total, start_index, std::move(items)));
  }

  void get(const httplib::Request& req, httplib::Response& res) const {
    if (const auto id = user_id(req, res)) {
      const StoreReply reply = sim.store.get_user(*id);
      reply.status == StoreStatus::ok ? send_json(res, 200, reply.value) : send_store_error(res, reply, *id);
    }
  }

  void create(const httplib::Request& req, httplib::Response& res) const {
    const auto body = read_json_body(req, res);
    if (!body || !valid_user_body(*body, true, res)) {
      return;
    }
    if (sim.faults.create_answers_other()) {
      const nlohmann::json users = sim.store.all_users();
      if (users.is_array() && !users.empty()) {
        send_json(res, 201, users.front());
        return;
      }
    }
    const StoreReply reply = sim.store.create_user(*body, /*keep_id=*/false, /*keep_active=*/false);
    if (reply.status != StoreStatus::ok) {
      send_store_error(res, reply, {});
      return;
    }
    sim.stats.count_create_applied();
    if (sim.faults.lose_create()) {
      send_zoom_error(res, 502, 502, "Bad Gateway");
      return;
    }
    res.set_header("Location", reply.value["meta"]["location"].get<std::string>());
    send_json(res, 201, reply.value);
  }

  void update(const httplib::Request& req, httplib::Response& res) const {
    const auto id = user_id(req, res);
    const auto body = id ? read_json_body(req, res) : std::nullopt;
    if (!body || !valid_user_body(*body, false, res)) {
      return;
    }
    const StoreReply reply = sim.store.update_user(*id, *body);
    reply.status == StoreStatus::ok ? send_json(res, 200, reply.value) : send_store_error(res, reply, *id);
  }

  void patch(const httplib::Request& req, httplib::Response& res) const {
    const auto id = user_id(req, res);
    const auto body = id ? read_json_body(req, res) : std::nullopt;
    if (!body) {
      return;
    }
    if (!has_schema(*body, k_patch_schema)) {
      send_scim_error(res, 400, std::string("schemas must contain ") + k_patch_schema, "invalidSyntax");
      return;
    }
    const auto active = requested_active(*body);
    if (!active) {
      send_json(res, 400, {{"schemas", {k_error_schema}}, {"detail", k_bad_patch}, {"status", 400}});
      return;
    }
    const StoreReply reply = sim.store.set_active(*id, *active);
    if (reply.status != StoreStatus::ok) {
      send_store_error(res, reply, *id);
      return;
    }
    res.status = 204;
  }

  void remove(const httplib::Request& req, httplib::Response& res) const {
    if (const auto id = user_id(req, res)) {
      if (sim.store.delete_user(*id)) {
        res.status = 204;
      } else {
        send_store_error(res, {StoreStatus::not_found, {}}, *id);
      }
    }
  }
};

} // namespace

void register_user_routes(httplib::Server& server, SimState& sim) {
  const std::string base = sim.options.users_base + "/Users";
  const std::string one = regex_escape(base) + "/(.+)";
  auto routes = std::make_shared<UserRoutes>(UserRoutes{sim, base + "/"});
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  server.Get(regex_escape(base), guarded(sim, "GET /Users", RateCategory::medium,
                                         [routes](Req req, Res res) { routes->list(req, res); }));
  server.Post(regex_escape(base), guarded(sim, "POST /Users", RateCategory::light,
                                          [routes](Req req, Res res) { routes->create(req, res); }));
  server.Get(one, guarded(sim, "GET /Users/{id}", RateCategory::light,
                          [routes](Req req, Res res) { routes->get(req, res); }));
  server.Put(one, guarded(sim, "PUT /Users/{id}", RateCategory::light,
                          [routes](Req req, Res res) { routes->update(req, res); }));
  server.Patch(one, guarded(sim, "PATCH /Users/{id}", RateCategory::light,
                            [routes](Req req, Res res) { routes->patch(req, res); }));
  server.Delete(one, guarded(sim, "DELETE /Users/{id}", RateCategory::light,
                             [routes](Req req, Res res) { routes->remove(req, res); }));
}

} // namespace zoom_sim
