// Classifying Zoom's failures, and reading Retry-After in its three forms.
#include "core/time.hpp"
#include "fakes/fake_transport.hpp"
#include "zoom/zoom_errors.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace h2r::test;
using namespace std::chrono_literals;

TEST_CASE("zoom errors: every answer gets the kind callers act on") {
  const SystemTime now = SystemTime{} + 490'000h;
  struct Case {
    const char* name;
    HttpResponse response;
    ErrorKind kind;
    const char* code;
    const char* in_message;
  };
  const Case cases[] = {
      {"401 code 124", json_response(401, {{"code", 124}, {"message", "Invalid access token."}}), ErrorKind::unauthorized,
       "124", "Invalid access token."},
      {"401 code 4711", json_response(401, {{"code", 4711}, {"message", "Invalid access token, does not contain scopes:[user:write:admin]"}}),
       ErrorKind::permanent, "4711", "user:write:admin"},
      {"400 code 4711", json_response(400, {{"code", 4711}, {"message", "does not contain scopes:[user:read:admin]"}}),
       ErrorKind::permanent, "4711", "user:read:admin"},
      {"400 SCIM, status number", scim_error(400, "Account has not enabled Single Sign-On."), ErrorKind::permanent, "",
       "Account has not enabled Single Sign-On."},
      {"400 SCIM, status string", scim_error(400, "Bad userName", true), ErrorKind::permanent, "", "Bad userName"},
      {"403", json_response(403, {{"code", 200}, {"message", "No permission: User:Edit"}}), ErrorKind::permanent, "200",
       "User:Edit"},
      {"404", scim_error(404, "User does not exist: u1"), ErrorKind::not_found, "", "u1"},
      {"409", scim_error(409, "exists"), ErrorKind::conflict, "", "409"},
      {"408", json_response(408, nullptr), ErrorKind::transient, "", "408"},
      {"429 QPS", json_response(429, nullptr, {{"X-RateLimit-Type", "QPS"}, {"Retry-After", "3"}}), ErrorKind::transient,
       "", "429"},
      {"429 daily", json_response(429, nullptr, {{"X-RateLimit-Type", "Daily-limit"}}), ErrorKind::transient,
       "", "429"},
      {"500", json_response(500, nullptr), ErrorKind::transient, "", "500"},
      {"502 html", HttpResponse{502, {}, "<html>bad gateway</html>"}, ErrorKind::transient, "", "502"},
      {"503", scim_error(503, "down for maintenance"), ErrorKind::transient, "", "down for maintenance"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Error e = classify_scim_failure(c.response, "create user a@b.com", now);
    CHECK(e.kind == c.kind);
    CHECK(e.code == c.code);
    if (c.response.status == 429)   // h2r's own reason, as a type: the daily limit pauses, a QPS limit paces
      CHECK(e.reason == (e.daily_limit ? ErrorReason::daily_limit : ErrorReason::rate_limited));
    CHECK((e.reason == ErrorReason::token_refused) == (e.code == "4711"));
    CHECK(e.http_status == c.response.status);
    CHECK(e.message.find("create user a@b.com") != std::string::npos);
    CHECK(e.message.find(c.in_message) != std::string::npos);
  }
  Error daily = classify_scim_failure(json_response(429, nullptr, {{"X-RateLimit-Type", "Daily-limit"},
                                                                   {"Retry-After", "2026-03-02T00:00:00Z"}}),
                                      "x", *parse_http_or_iso_date("2026-03-01T12:00:00Z"));
  CHECK(daily.daily_limit);
  REQUIRE(daily.retry_at);
  CHECK(format_utc(*daily.retry_at) == "2026-03-02T00:00:00Z");
}

TEST_CASE("zoom errors: Retry-After as seconds, HTTP-date, ISO date, or absent") {
  const SystemTime now = *parse_http_or_iso_date("2026-03-01T12:00:00Z");
  CHECK(parse_retry_after("7", now) == now + 7s);
  CHECK(parse_retry_after(" 0 ", now) == now);
  CHECK(parse_retry_after("Sun, 01 Mar 2026 12:00:09 GMT", now) == now + 9s);
  CHECK(parse_retry_after("2026-03-01T12:00:11Z", now) == now + 11s);
  CHECK(parse_retry_after("", now) == std::nullopt);
  CHECK(parse_retry_after("soon", now) == std::nullopt);
  CHECK(parse_retry_after("-5", now) == std::nullopt);
}

TEST_CASE("zoom errors: an unbounded Retry-After waits at most a day and never wraps into the past") {
  const SystemTime now = *parse_http_or_iso_date("2026-03-01T12:00:00Z");
  const SystemTime cap = now + k_max_retry_after;
  for (const char* huge : {"1000000000000000000", "99999999999999999999999999999", "86401",
                           "9999-12-31T23:59:59Z", "2199-12-31T00:00:00Z", "Fri, 31 Dec 2100 23:59:59 GMT"}) {
    CAPTURE(huge);
    auto at = parse_retry_after(huge, now);
    if (std::string_view(huge).starts_with("9999-")) {
      CHECK_FALSE(at);   // out of the date range: unreadable, the caller's default applies
      continue;
    }
    REQUIRE(at);
    CHECK(*at == cap);
  }
  // A date in the past means "now".
  CHECK(parse_retry_after("2020-01-01T00:00:00Z", now) == now);
  // Through the classifier, as the client meets it.
  Error e = classify_scim_failure(json_response(429, nullptr, {{"Retry-After", "1000000000000000000"}}), "x", now);
  REQUIRE(e.retry_at);
  CHECK(*e.retry_at == cap);
}

TEST_CASE("zoom errors: the detail comes from any of Zoom's error shapes, bounded") {
  CHECK(zoom_error_detail(R"({"detail":"d","status":"400"})") == "d");
  CHECK(zoom_error_detail(R"({"code":1001,"message":"User does not exist"})") == "User does not exist");
  CHECK(zoom_error_detail(R"({"reason":"Invalid client_id or client_secret","error":"invalid_client"})") ==
        "Invalid client_id or client_secret");
  CHECK(zoom_error_detail("not json").empty());
  CHECK(zoom_error_detail(nlohmann::json{{"detail", std::string(5000, 'x')}}.dump()).size() <= k_max_server_text_bytes + 3);
}
