// Issue 11 (7): a stored connection whose URL is http:// to another host is refused at use too (a row
// from before the rule, or edited in the database), unless it was added with --allow-insecure-http.
#include "engine/connection_registry.hpp"
#include "secrets/secret_box.hpp"

#include <doctest/doctest.h>

using namespace h2r;

TEST_CASE("connection registry: a stored http:// URL to another host is refused at use unless allowed") {
  auto key = SecretKey::from_bytes(std::string(k_secret_key_bytes, 'k'));
  REQUIRE(key);
  SecretBox box(std::move(*key));
  ConnectionRow row;
  row.name = "z";
  row.account_id = "a";
  row.client_id = "c";
  row.secret_blob = box.seal(Secret("s3cret"), "z").value();
  row.oauth_url = "http://10.0.0.1/oauth/token";
  row.api_url = "https://api.zoom.us/scim2";
  auto refused = zoom_connection(row, box);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("connection z: oauth_url: 'http://10.0.0.1/oauth/token' is http:// to 10.0.0.1") !=
        std::string::npos);
  row.allow_insecure_http = true;
  CHECK(zoom_connection(row, box));
  row.allow_insecure_http = false;
  row.oauth_url = "http://127.0.0.1:8080/oauth/token";
  CHECK(zoom_connection(row, box));
  row.api_url = "http://[::1]:8080/scim2";
  CHECK(zoom_connection(row, box));
  row.api_url = "http://api.zoom.us/scim2";
  CHECK_FALSE(zoom_connection(row, box));
}
