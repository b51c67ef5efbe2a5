// Issue 26 at the unit level: header values checked before sending, the token and list answers read
// without exceptions, and secrets scrubbed from a server's text, against a HostileServer
// (tests/support/hostile_server.hpp). The transports' deadline and size cap: transport_test.cpp.
#include "support/hostile_server.hpp"
#include "zoom/http_transport.hpp"
#include "zoom/scim_client.hpp"
#include "zoom/token_cache.hpp"
#include "zoom/zoom_errors.hpp"

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

using namespace h2r;
using namespace h2r::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("hostile answers: header values with CR, LF, NUL or DEL are refused, naming the header, not the value") {
  CHECK(header_problem("Authorization", "Bearer abc.DEF-1_2~+/=").empty());
  CHECK(header_problem("X-Tab", "a\tb obs-text \xc3\xa9").empty());
  for (const std::string& bad : {std::string("Bearer a\r\nX: 1"), std::string("a\nb"), std::string("a\0b", 3), std::string("a\x7f")}) {
    const std::string problem = header_problem("Authorization", bad);
    CHECK(contains(problem, "Authorization header's value has control byte"));
    CHECK_FALSE(contains(problem, "X: 1"));
  }
  CHECK(contains(header_problem("Bad Name", "v"), "not allowed in a header name"));
  CHECK(contains(header_problem("", "v"), "empty name"));
}

TEST_CASE("hostile answers: the transport sends no request whose header has CR LF") {
  HostileServer zoom;
  HttplibTransport transport;
  HttpRequest request{"GET", zoom.api_url() + "/Users", {{"Authorization", "Bearer x\r\n\r\nDELETE /scim2/Users/1 HTTP/1.1"}}, "", ""};
  auto response = transport.send(request);
  REQUIRE_FALSE(response);
  CHECK(response.error().kind == ErrorKind::permanent);
  CHECK(contains(response.error().message, "not sent to http://127.0.0.1:"));
  CHECK(zoom.requests().empty());
}

TEST_CASE("hostile answers: a token answer is bounded visible ASCII or a transient error naming the field") {
  auto ok = parse_token_answer(R"({"access_token":"eyJ0.eyJ1.c2ln","expires_in":1e300})");
  REQUIRE(ok);
  CHECK(ok->access_token.reveal() == "eyJ0.eyJ1.c2ln");
  CHECK(ok->lifetime == std::chrono::hours(24));
  for (const char* body : {"", "[]", R"({"access_token":7})", R"({"access_token":""})", R"({"expires_in":3})"}) {
    auto bad = parse_token_answer(body);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::transient);
  }
  auto crlf = parse_token_answer(R"({"access_token":"abc\r\nX-Injected: 1"})");
  REQUIRE_FALSE(crlf);
  CHECK(contains(crlf.error().message, "access_token has characters a bearer token may not have"));
  CHECK_FALSE(contains(crlf.error().message, "Injected"));
  CHECK_FALSE(parse_token_answer(R"({"access_token":"a b"})"));
  CHECK_FALSE(parse_token_answer(R"({"access_token":"caf\u00e9"})"));
  CHECK(parse_token_answer(R"({"access_token":"tok-https://zoom-a.example1"})"));
  auto huge = parse_token_answer(R"({"access_token":")" + std::string(k_max_access_token_bytes + 1, 'a') + "\"}");
  REQUIRE_FALSE(huge);
  CHECK(contains(huge.error().message, "more than the 16384 h2r accepts"));
}

TEST_CASE("hostile answers: a list answer with odd types is an error naming the JSON path, never an exception") {
  const std::string what = "list users";
  auto ok = parse_user_list(R"({"totalResults":2,"startIndex":1,"Resources":[{"id":"u1","userName":"a"},7]})", 1, what);
  REQUIRE(ok);
  CHECK(ok->total == 2);
  CHECK(ok->users.size() == 2);
  CHECK(parse_user_list(R"({})", 5, what)->start_index == 5);
  struct Case {
    const char* body;
    const char* says;
  };
  for (const Case& c : {Case{R"({"totalResults":"12"})", "totalResults is \"12\", not an integer from 0"},
                        Case{R"({"totalResults":-1})", "totalResults is -1"},
                        Case{R"({"totalResults":1.5})", "totalResults is 1.5"},
                        Case{R"({"totalResults":18446744073709551615})", "totalResults is 18446744073709551615"},
                        Case{R"({"startIndex":0})", "startIndex is 0, not an integer from 1"},
                        Case{R"({"startIndex":null})", "startIndex is null"},
                        Case{R"({"Resources":"x"})", "Resources is not an array (JSON type string)"},
                        Case{R"([1])", "not a JSON object"}}) {
    INFO(c.body);
    auto bad = parse_user_list(c.body, 1, what);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::transient);
    CHECK(contains(bad.error().message, std::string("list users: ") ));
    CHECK(contains(bad.error().message, c.says));
  }
}

TEST_CASE("hostile answers: scrub_secrets removes each secret as is and JSON-escaped, leaves short ones") {
  CHECK(scrub_secrets("secret s3cr3t-value and s3cr3t-value", {"s3cr3t-value"}) == "secret [redacted] and [redacted]");
  CHECK(scrub_secrets(R"({"x":"a\"b\\c-long"})", {"a\"b\\c-long"}) == R"({"x":"[redacted]"})");
  CHECK(scrub_secrets("a b c", {"a", ""}) == "a b c");
}

TEST_CASE("hostile answers: a token refusal echoing the client secret and the Basic header keeps neither") {
  HostileServer zoom;
  zoom.on_token([](const httplib::Request& req, httplib::Response& res) {
    res.status = 400;
    res.set_content(nlohmann::json{{"error", "invalid_request"},
                                   {"reason", "you sent " + req.get_header_value("Authorization") +
                                                  " and the secret very-secret-value-91 for acc-1"}}
                        .dump(),
                    "application/json");
  });
  HttplibTransport transport;
  TokenCache cache(transport, SystemClock::instance());
  auto token = cache.get("c", {"acc-1", "cid-1", Secret("very-secret-value-91"), zoom.oauth_url()});
  REQUIRE_FALSE(token);
  INFO(token.error().message);
  CHECK(contains(token.error().message, "for acc-1"));
  CHECK_FALSE(contains(token.error().message, "very-secret-value-91"));
  CHECK_FALSE(contains(token.error().message, "Y2lkLTE6"));   // base64 of "cid-1:"
}
