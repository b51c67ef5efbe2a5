// h2r_attribute_changes_total / h2r_group_changes_total (issue 13): what h2r pushed, counted from the
// provisioner's report — kinds set / changed / cleared, and labels bounded to known attribute names.
#include "engine/provisioner.hpp"
#include "rules/short_path.hpp"
#include "ops/metrics.hpp"
#include "support/process.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using nlohmann::json;

namespace {

constexpr const char* k_enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
constexpr const char* k_license = "urn:ietf:params:scim:schemas:extension:zoom:1.0:User";

// The value of the sample `series` ("name{labels}") in `text`; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  at += series.size() + 2;
  return std::stod(text.substr(at, text.find('\n', at) - at));
}

std::string attribute_series(const std::string& attribute, const std::string& kind) {
  return "h2r_attribute_changes_total{connection=\"zoom-main\",attribute=\"" + attribute + "\",kind=\"" + kind + "\"}";
}

} // namespace

TEST_CASE("ops: attribute change kinds: set from null, cleared to null/\"\"/false/[], changed otherwise" * doctest::test_suite("threads")) {
  CHECK(attribute_change_kind(json(), "Engineer") == "set");
  CHECK(attribute_change_kind(json(), false) == "set");   // a create's license flag off: set, not cleared
  CHECK(attribute_change_kind("Lead", "Director") == "changed");
  CHECK(attribute_change_kind(false, true) == "changed");
  CHECK(attribute_change_kind("Lead", "") == "cleared");
  CHECK(attribute_change_kind("Lead", json()) == "cleared");
  CHECK(attribute_change_kind(true, false) == "cleared");
  CHECK(attribute_change_kind(json::array({1}), json::array()) == "cleared");
  CHECK(attribute_change_kind(json::array({1}), json::array({2})) == "changed");
}

TEST_CASE("ops: attribute metric labels are the rules' short names, bounded: anything else is other" * doctest::test_suite("threads")) {
  CHECK(attribute_metric_label("title") == "title");
  CHECK(attribute_metric_label("name.givenName") == "name.givenName");
  CHECK(attribute_metric_label("userName") == "userName");
  CHECK(attribute_metric_label("active") == "active");
  CHECK(attribute_metric_label("userType") == "userType");
  CHECK(attribute_metric_label("roles") == "roles");
  CHECK(attribute_metric_label("emails") == "emails.work");
  CHECK(attribute_metric_label("phoneNumbers") == "phoneNumbers");
  CHECK(attribute_metric_label(std::string(k_enterprise) + ".department") == "enterprise.department");
  CHECK(attribute_metric_label(std::string(k_enterprise) + ".manager.value") == "enterprise.manager");
  CHECK(attribute_metric_label("urn:us:zoom:scim:schemas:extension:1.0:ZoomUser.loginType.sso") == "zoom.loginType.sso");
  CHECK(attribute_metric_label(std::string(k_license) + ".pronouns") == "zoom.pronouns");
  CHECK(attribute_metric_label(std::string(k_license) + ".zoomOneBizPlus") == "zoom.licenses.zoomOneBizPlus");
  // Unbounded spellings (a license name Zoom does not document, a path outside the table): other.
  CHECK(attribute_metric_label(std::string(k_license) + ".madeUpLicense42") == "other");
  CHECK(attribute_metric_label(std::string(k_enterprise) + ".anything") == "other");
  CHECK(attribute_metric_label("x-custom.whatever") == "other");
  CHECK(attribute_metric_label("") == "other");
}

TEST_CASE("ops: an applied report counts each attribute change of its PUT/POST and each group add/remove" * doctest::test_suite("threads")) {
  Metrics metrics;
  ActionReport update{"zoom-main", "updated", "u1", "ann@example.com"};
  update.calls.push_back({"PUT", "u1", "Users", "update",
                          {{"title", "Lead", "Director"},
                           {std::string(k_enterprise) + ".department", "Sales", "Engineering"},
                           {"nickName", json(), "Annie"},
                           {std::string(k_license) + ".zoomOneBizPlus", true, false},
                           {std::string(k_license) + ".madeUpLicense42", json(), true},
                           {std::string(k_license) + ".madeUpLicense43", json(), true}}});
  update.calls.push_back({"PATCH", "u1", "Users", "reactivate", {{"active", false, true}}});   // not an attribute push
  update.calls.push_back({"PATCH", "g1", "Groups", "add to group Engineers", {}});
  update.calls.push_back({"PATCH", "g2", "Groups", "add to group All", {}});
  update.calls.push_back({"PATCH", "g3", "Groups", "remove from group Sales", {}});
  metrics.count_applied(update);
  ActionReport second{"zoom-main", "updated", "u2", "bob@example.com"};
  second.calls.push_back({"PUT", "u2", "Users", "update", {{"title", "Engineer", "Director"}}});
  metrics.count_applied(second);

  const std::string text = metrics.render({});
  CHECK(sample(text, attribute_series("title", "changed")) == 2);
  CHECK(sample(text, attribute_series("enterprise.department", "changed")) == 1);
  CHECK(sample(text, attribute_series("nickName", "set")) == 1);
  CHECK(sample(text, attribute_series("zoom.licenses.zoomOneBizPlus", "cleared")) == 1);
  CHECK(sample(text, attribute_series("other", "set")) == 2);   // both unknown licenses, one series
  CHECK(sample(text, attribute_series("active", "changed")) == -1);
  CHECK(text.find("madeUpLicense") == std::string::npos);
  CHECK(sample(text, "h2r_group_changes_total{connection=\"zoom-main\",op=\"add\"}") == 2);
  CHECK(sample(text, "h2r_group_changes_total{connection=\"zoom-main\",op=\"remove\"}") == 1);
  CHECK(text.find("# TYPE h2r_attribute_changes_total counter\n") != std::string::npos);
  CHECK(text.find("# TYPE h2r_group_changes_total counter\n") != std::string::npos);
  if (test::run_process({"sh", "-c", "command -v promtool"}).exit_code == 0) {
    auto check = test::run_process({"promtool", "check", "metrics"}, text);
    CHECK_MESSAGE(check.exit_code == 0, (check.out + check.err));
  } else {
    MESSAGE("SKIPPED (promtool): promtool not installed (Debian package `prometheus`)");
  }
}

TEST_CASE("ops: a create counts its attributes as set" * doctest::test_suite("threads")) {
  Metrics metrics;
  ActionReport create{"zoom-main", "created", "u1", "ann@example.com"};
  create.calls.push_back({"POST", "ann@example.com", "Users", "create",
                          diff_user(json(), {{"userName", "ann@example.com"}, {"title", "Engineer"}, {"active", true}})});
  metrics.count_applied(create);
  const std::string text = metrics.render({});
  CHECK(sample(text, attribute_series("title", "set")) == 1);
  CHECK(sample(text, attribute_series("userName", "set")) == 1);
  CHECK(sample(text, attribute_series("active", "set")) == 1);
}
