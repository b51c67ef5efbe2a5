// A tiny SCIM client over httplib for the zoom-sim tests.
#pragma once

#include "support/sim_process.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>

namespace h2r::test {

class SimApi {
public:
  explicit SimApi(const SimProcess& sim) : m_client("127.0.0.1", sim.port()), m_token(sim.fetch_token()) {}

  void use_token(std::string token) { m_token = std::move(token); }

  httplib::Result get(const std::string& path) { return m_client.Get(path, headers()); }
  httplib::Result post(const std::string& path, const nlohmann::json& body) {
    return m_client.Post(path, headers(), body.dump(), "application/scim+json");
  }
  httplib::Result put(const std::string& path, const nlohmann::json& body) {
    return m_client.Put(path, headers(), body.dump(), "application/scim+json");
  }
  httplib::Result patch(const std::string& path, const nlohmann::json& body) {
    return m_client.Patch(path, headers(), body.dump(), "application/scim+json");
  }
  httplib::Result del(const std::string& path) { return m_client.Delete(path, headers()); }

  static nlohmann::json json_of(const httplib::Result& result) { return nlohmann::json::parse(result->body); }

private:
  httplib::Headers headers() const {
    return {{"Authorization", "Bearer " + m_token}, {"Accept", "application/scim+json"}};
  }

  httplib::Client m_client;
  std::string m_token;
};

inline constexpr const char* k_core_schema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr const char* k_enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr const char* k_license = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User";
inline constexpr const char* k_patch_op = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

inline nlohmann::json user_body(const std::string& email) {
  return {{"schemas", {k_core_schema, k_enterprise, k_license}},
          {"userName", email},
          {"name", {{"givenName", "Jill"}, {"familyName", "Chill"}}},
          {"emails", {{{"type", "work"}, {"value", email}, {"primary", true}}}}};
}

inline nlohmann::json active_patch(bool active) {
  return {{"schemas", {k_patch_op}}, {"Operations", {{{"op", "replace"}, {"value", {{"active", active}}}}}}};
}

} // namespace h2r::test
