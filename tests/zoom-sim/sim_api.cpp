// /_sim: the test and ops API (no auth). Seeds users and groups, drifts users behind the daemon's
// back, changes faults at runtime, and reports what the Zoom API saw.
#include "http_util.hpp"
#include "routes.hpp"

namespace zoom_sim {

namespace {

using nlohmann::json;
using Req = const httplib::Request&;
using Res = httplib::Response&;

constexpr const char* k_user_prefix = "/_sim/users/";

void send_user_reply(Res res, const StoreReply& reply, int ok_status) {
  switch (reply.status) {
  case StoreStatus::ok:
    send_json(res, ok_status, reply.value, k_json_content_type);
    break;
  case StoreStatus::not_found:
    send_json(res, 404, {{"error", "no such user"}}, k_json_content_type);
    break;
  default:
    send_json(res, 409, {{"error", "userName or employeeNumber already used"}}, k_json_content_type);
  }
}

// Parses a JSON object body, whatever the Content-Type; answers 400 otherwise.
std::optional<json> object_body(Req req, Res res) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    send_json(res, 400, {{"error", "the body must be a JSON object"}}, k_json_content_type);
    return std::nullopt;
  }
  return body;
}

} // namespace

void register_sim_routes(httplib::Server& server, SimState& sim) {
  server.Get("/_sim/users", [&sim](Req, Res res) { send_json(res, 200, sim.store.all_users(), k_json_content_type); });

  server.Post("/_sim/users", [&sim](Req req, Res res) {
    if (const auto body = object_body(req, res)) {
      if (!body->contains("userName") || !(*body)["userName"].is_string()) {
        send_json(res, 400, {{"error", "userName is required"}}, k_json_content_type);
        return;
      }
      send_user_reply(res, sim.store.create_user(*body, /*keep_id=*/true, /*keep_active=*/true), 201);
    }
  });

  server.Patch("/_sim/users/(.+)", [&sim](Req req, Res res) {
    if (const auto body = object_body(req, res)) {
      send_user_reply(res, sim.store.merge_user(path_tail(req, k_user_prefix).value_or(""), *body), 200);
    }
  });

  server.Delete("/_sim/users/(.+)", [&sim](Req req, Res res) {
    if (sim.store.delete_user(path_tail(req, k_user_prefix).value_or(""))) {
      res.status = 204;
    } else {
      send_user_reply(res, {StoreStatus::not_found, {}}, 204);
    }
  });

  server.Get("/_sim/groups", [&sim](Req, Res res) { send_json(res, 200, sim.store.all_groups(), k_json_content_type); });

  server.Post("/_sim/groups", [&sim](Req req, Res res) {
    if (const auto body = object_body(req, res)) {
      if (!body->contains("displayName") || !(*body)["displayName"].is_string()) {
        send_json(res, 400, {{"error", "displayName is required"}}, k_json_content_type);
        return;
      }
      send_json(res, 201, sim.store.create_group((*body)["displayName"].get<std::string>()).value, k_json_content_type);
    }
  });

  server.Get("/_sim/stats", [&sim](Req, Res res) { send_json(res, 200, sim.stats.to_json(), k_json_content_type); });

  server.Get("/_sim/requests", [&sim](Req, Res res) {
    send_json(res, 200, sim.requests.to_json(), k_json_content_type);
  });

  server.Post("/_sim/reset", [&sim](Req, Res res) {
    sim.store.clear_users();
    sim.stats.reset();
    sim.requests.reset();
    sim.faults.reset();
    res.status = 204;
  });

  server.Get("/_sim/config", [&sim](Req, Res res) {
    send_json(res, 200, to_json(sim.faults.config()), k_json_content_type);
  });

  server.Post("/_sim/config", [&sim](Req req, Res res) {
    if (const auto body = object_body(req, res)) {
      if (const auto error = sim.faults.configure(*body)) {
        send_json(res, 400, {{"error", *error}}, k_json_content_type);
      } else {
        send_json(res, 200, to_json(sim.faults.config()), k_json_content_type);
      }
    }
  });

  server.Post("/_sim/invalidate-tokens", [&sim](Req, Res res) {
    sim.tokens.invalidate_all();
    res.status = 204;
  });
}

} // namespace zoom_sim
