// Server text copied into event reasons: bounded, single-line, and without anything that looks like a
// credential — through zoom_errors, the SCIM client and the token cache over a FakeTransport.
#include "core/text.hpp"
#include "fakes/fake_transport.hpp"
#include "zoom/scim_client.hpp"
#include "zoom/token_cache.hpp"
#include "zoom/zoom_errors.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace h2r::test;

namespace {

constexpr const char* k_jwt = "eyJhbGciOiJIUzUxMiJ9.eyJhdWQiOiJodHRwczovL29hdXRoIn0.c2lnbmF0dXJlLXNlY3JldA";

// Every secret-looking piece of text a server might echo back.
const char* const k_leaks[] = {
    "Bearer abc.DEF-123_xyz",           "bearer   tok-4242x",
    "Basic Y2lkOnZlcnktc2VjcmV0",       "access_token=at-very-secret&x=1",
    "\"access_token\": \"at-json-secret\"", "client_secret: cs-header-secret",
    "'refresh_token'='rt-secret'",      "password=hunter2",
    "id_token=idt-secret",              k_jwt,
};
const char* const k_secrets[] = {"abc.DEF-123_xyz", "tok-4242x", "Y2lkOnZlcnktc2VjcmV0", "at-very-secret",
                                 "at-json-secret",  "cs-header-secret", "rt-secret", "hunter2", "idt-secret",
                                 "c2lnbmF0dXJl"};

void check_clean(const std::string& text) {
  CAPTURE(text);
  for (const char* secret : k_secrets) CHECK(text.find(secret) == std::string::npos);
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find("\xE2\x80\xA8") == std::string::npos);
}

std::string all_leaks() {
  std::string text = "refused;\n";
  for (const char* leak : k_leaks) text += std::string(leak) + " \r\x1b[2J\xE2\x80\xA8 ";
  return text;
}

struct Rig {
  FakeTransport transport;
  FakeClock clock;
  TokenCache tokens{transport, clock};
  RateLimiter limiter{0};
  ScimClientOptions options;
  Rig() {
    options.sleep_until = [this](SystemTime t) {
      if (t > clock.now()) clock.set(t);
      return true;
    };
  }
  ScimClient client() {
    ZoomConnection connection{"zoom-main",
                              {"acc", "cid", Secret("s3cret"), "https://zoom.example/oauth/token"},
                              "https://api.example/scim2"};
    return ScimClient(connection, transport, tokens, limiter, clock, options);
  }
};

} // namespace

TEST_CASE("server_text: credentials redacted, key names kept") {
  for (const char* leak : k_leaks) check_clean(server_text(leak));
  CHECK(server_text("Bearer abc12345") == "Bearer [redacted]");
  CHECK(server_text("{\"access_token\":\"x1\",\"ok\":1}") == "{\"access_token\":\"[redacted]\",\"ok\":1}");
  CHECK(server_text("client_secret = zz, next") == "client_secret = [redacted], next");
  CHECK(server_text(std::string("token ") + k_jwt + " expired") == "token [redacted] expired");
  // Ordinary words that merely contain the key names are left alone.
  CHECK(server_text("secrets are kept; no password given") == "secrets are kept; no password given");
  CHECK(server_text("Invalid client_id or client_secret") == "Invalid client_id or client_secret");
  CHECK(server_text("Basic plan required") == "Basic plan required"); // too short for a credential
}

TEST_CASE("server_text: bounded on a UTF-8 boundary, one line") {
  const std::string long_text = std::string(k_max_server_text_bytes - 1, 'x') + "é and more";
  const std::string bounded = server_text(long_text);
  CHECK(bounded == std::string(k_max_server_text_bytes - 1, 'x') + "…");
  CHECK(server_text(std::string(100'000, 'y')).size() <= k_max_server_text_bytes + 3);
  CHECK(server_text("line one\nline two\r\n") == "line one\\x0Aline two\\x0D\\x0A");
}

TEST_CASE("server text in reasons: a SCIM error body is bounded and redacted") {
  Rig rig;
  rig.transport.on("/oauth/token", [](const HttpRequest&) -> Result<HttpResponse> { return token_response("t1"); });
  auto client = rig.client();
  rig.transport.push("/scim2/Users", scim_error(400, all_leaks() + std::string(5000, 'z')));
  auto updated = client.update_user("u1", {{"title", "x"}});
  REQUIRE_FALSE(updated);
  CHECK(updated.error().message.find("refused;") != std::string::npos);
  CHECK(updated.error().message.size() < k_max_server_text_bytes + 200);
  check_clean(updated.error().message);

  rig.transport.push("/scim2/Users", json_response(403, {{"code", all_leaks()}, {"message", "no"}}));
  auto again = client.update_user("u1", {{"title", "x"}});
  REQUIRE_FALSE(again);
  check_clean(again.error().code);
  CHECK(again.error().code.size() <= 200);
}

TEST_CASE("server text in reasons: a transport error echoing the request is redacted") {
  Rig rig;
  rig.transport.on("/oauth/token", [](const HttpRequest&) -> Result<HttpResponse> { return token_response("t1"); });
  rig.transport.on("/scim2/Users", [](const HttpRequest&) -> Result<HttpResponse> {
    return fail(ErrorKind::transient, "proxy said: Authorization: Bearer tok-4242x\n" + all_leaks());
  });
  auto client = rig.client();
  auto got = client.get_user("u1");
  REQUIRE_FALSE(got);
  CHECK(got.error().message.find("proxy said") != std::string::npos);
  check_clean(got.error().message);
}

TEST_CASE("server text in reasons: token refusals and token transport errors are redacted") {
  const OAuthCredentials credentials{"acc-1", "cid-1", Secret("very-secret-value-91"), "https://zoom.example/oauth/token"};
  {
    FakeTransport transport;
    FakeClock clock;
    TokenCache cache(transport, clock);
    transport.push("/oauth/token", json_response(400, {{"reason", all_leaks()}, {"error", all_leaks()}}));
    auto token = cache.get("c", credentials);
    REQUIRE_FALSE(token);
    check_clean(token.error().message);
    check_clean(token.error().code);
    CHECK(token.error().message.size() < k_max_server_text_bytes + 200);
  }
  {
    FakeTransport transport;
    FakeClock clock;
    TokenCache cache(transport, clock);
    transport.on("/oauth/token", [](const HttpRequest&) -> Result<HttpResponse> {
      return fail(ErrorKind::transient, "gateway echoed: " + all_leaks() + std::string(3000, 'q'));
    });
    auto token = cache.get("c", credentials);
    REQUIRE_FALSE(token);
    CHECK(token.error().message.find("gateway echoed") != std::string::npos);
    check_clean(token.error().message);
    CHECK(token.error().message.size() < k_max_server_text_bytes + 200);
  }
}
