// POST /oauth/token: Zoom's Server-to-Server OAuth (grant_type=account_credentials).
#include "http_util.hpp"
#include "routes.hpp"

#include <openssl/crypto.h>

namespace zoom_sim {

namespace {

constexpr const char* k_scope = "user:read:admin user:write:admin";

bool same_secret(const std::string& given, const std::string& expected) {
  return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

// True when the Basic credentials are the configured client id and secret.
bool valid_client(const httplib::Request& req, const Options& options) {
  const std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view k_basic = "Basic ";
  if (auth.size() <= k_basic.size() || !iequals(auth.substr(0, k_basic.size()), k_basic)) {
    return false;
  }
  const auto decoded = base64_decode(auth.substr(k_basic.size()));
  if (!decoded) {
    return false;
  }
  const size_t colon = decoded->find(':');
  return colon != std::string::npos && decoded->substr(0, colon) == options.client_id &&
         same_secret(decoded->substr(colon + 1), options.client_secret);
}

void send_oauth_error(httplib::Response& res, const char* reason, const char* error) {
  send_json(res, 400, {{"reason", reason}, {"error", error}}, k_json_content_type);
}

// The form body's parameters, when the request has one; the query's otherwise.
std::string param(const httplib::Request& req, const char* name) {
  if (req.has_param(name)) {
    return req.get_param_value(name);
  }
  if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
    httplib::Params form;
    httplib::detail::parse_query_text(req.body, form);
    const auto it = form.find(name);
    if (it != form.end()) {
      return it->second;
    }
  }
  return {};
}

} // namespace

void register_oauth_routes(httplib::Server& server, SimState& sim) {
  server.Post("/oauth/token", [&sim](const httplib::Request& req, httplib::Response& res) {
    sim.stats.count_request("POST /oauth/token");
    add_latency(sim);
    if (!valid_client(req, sim.options)) {
      send_oauth_error(res, "Invalid client_id or client_secret", "invalid_client");
    } else if (param(req, "grant_type") != "account_credentials") {
      send_oauth_error(res, "unsupported grant type", "unsupported_grant_type");
    } else if (param(req, "account_id") != sim.options.account_id) {
      send_oauth_error(res, "Invalid account_id", "invalid_request");
    } else {
      const FaultConfig config = sim.faults.config();
      const std::string token = sim.tokens.issue(std::chrono::seconds(config.token_lifetime_s), config.single_token);
      sim.stats.count_token_issued();
      send_json(res, 200,
                {{"access_token", token},
                 {"token_type", "bearer"},
                 {"expires_in", config.token_lifetime_s},
                 {"scope", k_scope},
                 {"api_url", sim.base_url()}},
                k_json_content_type);
    }
    sim.stats.count_status(res.status);
  });
}

} // namespace zoom_sim
