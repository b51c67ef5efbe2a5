// check_same_deployment: every row a migration copies (store/store_copy.hpp) is equal in two stores —
// connections with their sealed secrets, health, events with every column but the claim, history,
// employees, links with pushed_*, fields seen, and meta but the process keys. Header-only: the tests
// that use it link the store.
#pragma once

#include "store/store.hpp"
#include "store/store_copy.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace h2r::test {

inline void check_same_event(const EventRow& a, const EventRow& b) {
  INFO("event " << a.id << " " << a.event_id);
  CHECK(a.id == b.id);
  CHECK(a.event_id == b.event_id);
  CHECK(a.type == b.type);
  CHECK(a.leave_type == b.leave_type);
  CHECK(a.employee_id == b.employee_id);
  CHECK(a.fields == b.fields);
  CHECK(a.effective_raw == b.effective_raw);
  CHECK(a.effective_at_ms == b.effective_at_ms);
  CHECK(a.due_at_ms == b.due_at_ms);
  CHECK(a.source_file == b.source_file);
  CHECK(a.state == b.state);
  CHECK(a.reason == b.reason);
  CHECK(a.attempts == b.attempts);
  CHECK(a.approved == b.approved);
  CHECK(a.rules_version == b.rules_version);
  CHECK(a.result == b.result);
  CHECK(a.received_at_ms == b.received_at_ms);
  CHECK(a.updated_at_ms == b.updated_at_ms);
  CHECK(b.claim_token.empty());   // the copy is never claimed
}

// `from` is the source, `to` the copy. Returns how many events were compared.
inline long long check_same_deployment(Store& from, Store& to) {
  auto ca = from.list_connections();
  auto cb = to.list_connections();
  REQUIRE(ca);
  REQUIRE(cb);
  REQUIRE(ca->size() == cb->size());
  for (std::size_t i = 0; i < ca->size(); ++i) {
    const auto& a = (*ca)[i];
    const auto& b = (*cb)[i];
    INFO("connection " << a.name);
    CHECK(a.name == b.name);
    CHECK(a.account_id == b.account_id);
    CHECK(a.client_id == b.client_id);
    CHECK(a.secret_blob == b.secret_blob);
    CHECK(a.oauth_url == b.oauth_url);
    CHECK(a.api_url == b.api_url);
    CHECK(a.rate_limit == b.rate_limit);
    CHECK(a.created_at_ms == b.created_at_ms);
    CHECK(a.updated_at_ms == b.updated_at_ms);
    CHECK(a.allow_insecure_http == b.allow_insecure_http);
    auto ha = from.get_connection_health(a.name);
    auto hb = to.get_connection_health(a.name);
    REQUIRE(ha);
    REQUIRE(hb);
    REQUIRE(ha->has_value() == hb->has_value());
    if (ha->has_value()) {
      CHECK((*ha)->healthy == (*hb)->healthy);
      CHECK((*ha)->last_error == (*hb)->last_error);
      CHECK((*ha)->last_error_at_ms == (*hb)->last_error_at_ms);
      CHECK((*ha)->last_success_at_ms == (*hb)->last_success_at_ms);
      CHECK((*ha)->paused_until_ms == (*hb)->paused_until_ms);
      CHECK((*ha)->pause_reason == (*hb)->pause_reason);
      CHECK((*ha)->pause_kind == (*hb)->pause_kind);
    }
    auto la = from.list_links(a.name);
    auto lb = to.list_links(a.name);
    REQUIRE(la);
    REQUIRE(lb);
    REQUIRE(la->size() == lb->size());
    for (std::size_t j = 0; j < la->size(); ++j) {
      const auto& x = (*la)[j];
      const auto& y = (*lb)[j];
      INFO("link " << x.employee_id);
      CHECK(x.employee_id == y.employee_id);
      CHECK(x.zoom_user_id == y.zoom_user_id);
      CHECK(x.user_name == y.user_name);
      CHECK(x.pushed_digest == y.pushed_digest);
      CHECK(x.active == y.active);
      CHECK(x.updated_at_ms == y.updated_at_ms);
      CHECK(x.pushed_body == y.pushed_body);
      CHECK(x.pushed_at_ms == y.pushed_at_ms);
      CHECK(x.pushed_groups == y.pushed_groups);
    }
  }
  EventFilter all;
  all.limit = 1'000'000;
  auto ea = from.list_events(all);
  auto eb = to.list_events(all);
  REQUIRE(ea);
  REQUIRE(eb);
  REQUIRE(ea->size() == eb->size());
  for (std::size_t i = 0; i < ea->size(); ++i) {
    check_same_event((*ea)[i], (*eb)[i]);
    auto ha = from.event_history((*ea)[i].id);
    auto hb = to.event_history((*ea)[i].id);
    REQUIRE(ha);
    REQUIRE(hb);
    REQUIRE(ha->size() == hb->size());
    for (std::size_t j = 0; j < ha->size(); ++j) {
      CHECK((*ha)[j].event == (*hb)[j].event);
      CHECK((*ha)[j].at_ms == (*hb)[j].at_ms);
      CHECK((*ha)[j].from == (*hb)[j].from);
      CHECK((*ha)[j].to == (*hb)[j].to);
      CHECK((*ha)[j].actor == (*hb)[j].actor);
      CHECK((*ha)[j].reason == (*hb)[j].reason);
    }
  }
  auto pa = from.list_employees();
  auto pb = to.list_employees();
  REQUIRE(pa);
  REQUIRE(pb);
  REQUIRE(pa->size() == pb->size());
  for (std::size_t i = 0; i < pa->size(); ++i) {
    CHECK((*pa)[i].employee_id == (*pb)[i].employee_id);
    CHECK((*pa)[i].record == (*pb)[i].record);
    CHECK((*pa)[i].status == (*pb)[i].status);
    CHECK((*pa)[i].updated_at_ms == (*pb)[i].updated_at_ms);
  }
  auto sa = from.seen_fields();
  auto sb = to.seen_fields();
  REQUIRE(sa);
  REQUIRE(sb);
  CHECK(*sa == *sb);
  auto ma = from.list_meta();
  REQUIRE(ma);
  for (const auto& [key, value] : *ma) {
    auto got = to.get_meta(key);
    REQUIRE(got);
    INFO("meta " << key);
    if (is_process_meta(key)) CHECK_FALSE(got->has_value());
    else CHECK(got->value_or("<absent>") == value);
  }
  return static_cast<long long>(ea->size());
}

} // namespace h2r::test
