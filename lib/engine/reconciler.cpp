#include "engine/reconciler.hpp"

#include "engine/backoff.hpp"
#include "engine/engine.hpp"

#include "core/text.hpp"
#include "rules/text_fold.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>

namespace h2r {
namespace {

constexpr int k_page_size = 100;
constexpr long long k_max_pages = 100'000;   // ten million users

// Zoom's list answers leave these out, so their absence there is no drift.
bool listed_by_zoom(const std::string& path) {
  if (path.rfind(k_zoom_license_urn, 0) == 0) return false;
  for (const char* p : {"manager", "organization", "costCenter"})
    if (path == std::string(k_scim_enterprise_urn) + "." + p || path.rfind(std::string(k_scim_enterprise_urn) + "." + p + ".", 0) == 0)
      return false;
  return true;
}

std::vector<AttributeChange> visible_diff(const nlohmann::json& current, const nlohmann::json& desired) {
  auto changes = diff_user(current, desired);
  changes.erase(std::remove_if(changes.begin(), changes.end(),
                               [](const AttributeChange& c) { return !listed_by_zoom(c.path) || c.path == "active"; }),
                changes.end());
  return changes;
}

// The links of `connection` that share their Zoom user with another employee's link, by Zoom user id
// (each list by employee_id, two or more long).
Result<std::map<std::string, std::vector<LinkRow>>> shared_links(Store& store, const std::string& connection) {
  auto links = store.list_links(connection);
  if (!links) return unexpected(std::move(links).error());
  std::map<std::string, std::vector<LinkRow>> by_user;
  for (auto& link : *links) by_user[link.zoom_user_id].push_back(std::move(link));
  std::erase_if(by_user, [](const auto& entry) { return entry.second.size() < 2; });
  return by_user;
}

// `call` until it succeeds, fails with a non-transient error, or `retry` says to stop; the last error
// then says how often it was tried.
template <class Call>
auto retried(const ReconcileRetry& retry, const Clock& clock, std::mt19937_64& rng, const std::string& what, Call call)
    -> decltype(call()) {
  for (int attempt = 1;; ++attempt) {
    auto result = call();
    if (result || !result.error().is_transient()) return result;
    Error error = std::move(result).error();
    auto wait = jittered_backoff(attempt, retry.base, retry.max, Engine::k_min_backoff, rng);
    if (error.retry_at)
      wait = std::max(wait, std::chrono::ceil<std::chrono::milliseconds>(*error.retry_at - clock.now()));
    if (attempt >= retry.max_attempts || wait > retry.max_wait) {
      if (retry.max_attempts > 1)
        error.message += " (tried " + std::to_string(attempt) + (attempt == 1 ? " time" : " times") +
                         (attempt < retry.max_attempts ? "; the next would have to wait longer than reconcile waits" : "") + ")";
      return unexpected(std::move(error));
    }
    spdlog::warn("reconcile.retry what=\"{}\" attempt={} of={} wait_ms={} error=\"{}\"", escape_for_log(what), attempt,
                 retry.max_attempts, wait.count(), escape_for_log(error.message));
    if (retry.sleep) retry.sleep(wait);
    else std::this_thread::sleep_for(wait);
  }
}

// What the rules say of `employee` in `connection`: whether they target it, and the user they want.
struct Wanted {
  bool targeted = false;
  std::optional<DesiredUser> desired;
};
Wanted wanted_in(const Rules& rules, const EmployeeRow& employee, const std::string& connection) {
  Wanted out;
  for (auto& d : rules.decide(employee.record))
    if (d.connection == connection) {
      out.targeted = true;
      out.desired = d.desired;
    }
  return out;
}

// What should be: active with the desired attributes (true), or inactive or absent (false); nullopt
// when the rules have no opinion (on leave, unknown, or on_no_role: keep).
std::optional<bool> should_be_active(const EmployeeRow& employee, const std::optional<DesiredUser>& desired,
                                     const Rules& rules) {
  if (employee.status == HrStatus::active && desired) return true;
  if (employee.status == HrStatus::terminated) return false;
  if (employee.status == HrStatus::active && !desired && rules.on_no_role() == OnNoRole::deprovision) return false;
  return std::nullopt;
}

// The intent that brings Zoom to what the rules want, before its kind is known (classify() sets it).
Intent fix_intent(const std::string& connection, const std::optional<DesiredUser>& desired, const std::string& user_name,
                  const std::optional<LinkRow>& linked, const ScimUser* user) {
  Intent intent;
  intent.connection = connection;
  intent.desired = desired;
  intent.user_name = user_name;
  if (linked) {
    // Anything h2r pushed that the rules no longer give is cleared on the push (planner.hpp).
    if (desired && linked->pushed_body.is_object()) intent.cleared = cleared_from_pushed(linked->pushed_body, *desired);
    intent.link = *linked;
    intent.link->pushed_digest.clear();   // force a push: Zoom drifted from what was pushed
    if (user) {   // act on what Zoom has, not on what h2r last set
      intent.link->active = user->active;
      intent.link->zoom_user_id = user->id;
    }
  }
  return intent;
}

// The drift of an employee whose Zoom user should be active (`active`) or not, into `item` (its kind
// and detail) and `intent` (what fixes it); false when Zoom is in sync.
bool classify(DriftItem& item, Intent& intent, const EmployeeRow& employee, bool active, const ScimUser* user) {
  const std::string& name = intent.connection;
  if (active && !user) {
    item.kind = "missing";
    item.detail = "no Zoom user " + item.user_name;
    intent.kind = IntentKind::provision;
    intent.link.reset();
  } else if (active && !user->active) {
    item.kind = "active_state";
    item.detail = "inactive in Zoom, active in HR";
    intent.kind = IntentKind::provision;
  } else if (!active && user && user->active) {
    item.kind = "active_state";
    item.detail = "active in Zoom, " + std::string(employee.status == HrStatus::terminated ? "terminated" : "no role") + " in HR";
    intent.kind = IntentKind::deactivate;
    intent.desired.reset();
    if (!intent.link) intent.link = LinkRow{name, employee.employee_id, user->id, user->user_name, "", true};
  } else if (active && user) {
    item.changes = visible_diff(user->body, intent.desired->body);
    if (item.changes.empty()) return false;
    item.kind = "attributes";
    item.detail = std::to_string(item.changes.size()) + " attribute(s) differ";
    intent.kind = IntentKind::provision;
    if (!intent.link) intent.link = LinkRow{name, employee.employee_id, user->id, user->user_name, "", true};
  } else {
    return false;
  }
  return true;
}

// One connection's part of reconcile: its Zoom users against every known employee, into `report`.
class ConnectionCheck {
public:
  ConnectionCheck(Store& store, ScimClient& client, const Rules& rules, std::string name, bool apply, const Clock& clock,
                  const ReconcileRetry& retry, std::mt19937_64& rng, ReconcileReport& report)
      : m_store(store), m_client(client), m_rules(rules), m_name(std::move(name)), m_apply(apply), m_clock(clock),
        m_retry(retry), m_rng(rng), m_report(report) {}

  Result<void> run(const std::vector<EmployeeRow>& employees) {
    H2R_TRY(list_zoom_users());
    const std::set<std::string> sharing = H2R_TRY(report_shared());
    for (const auto& employee : employees)
      if (!sharing.count(employee.employee_id)) H2R_TRY(check(employee));
    report_unaccounted();
    return {};
  }

private:
  // Every Zoom user of the connection, by userName (ASCII case aside), into m_by_name.
  Result<void> list_zoom_users() {
    // Paging must advance: a page that starts elsewhere than asked, or lists no user not listed
    // before, means the server ignores startIndex, and the walk stops with an error rather than
    // asking forever; k_max_pages bounds it whatever totalResults says.
    for (long long start = 1, pages = 1;; ++pages) {
      const std::string asked = "list users of " + m_name + " from startIndex " + std::to_string(start);
      const std::string where = asked + ": ";
      auto page = retried(m_retry, m_clock, m_rng, asked, [&] { return m_client.list_users(start, k_page_size); });
      if (!page) return unexpected(std::move(page).error());
      if (page->start_index != start)
        return fail(ErrorKind::transient, where + "Zoom's answer starts at " + std::to_string(page->start_index) +
                                              " (it does not page): stopped");
      std::size_t fresh = 0;
      for (auto& u : page->users) fresh += m_by_name.insert_or_assign(ascii_lower(u.user_name), u).second ? 1 : 0;
      if (!page->users.empty() && fresh == 0)
        return fail(ErrorKind::transient, where + "Zoom's answer lists only users listed before (it does not page): stopped");
      start += static_cast<long long>(page->users.size());
      if (page->users.empty() || start > page->total) break;
      if (pages >= k_max_pages)
        return fail(ErrorKind::transient, where + "more than " + std::to_string(k_max_pages) + " pages of " +
                                              std::to_string(k_page_size) + " users: stopped");
    }
    m_report.zoom_users += static_cast<long long>(m_by_name.size());
    return {};
  }

  // A Zoom user two employees are linked to: reported, and neither employee is checked further.
  // Returns their employee ids.
  Result<std::set<std::string>> report_shared() {
    auto shared = shared_links(m_store, m_name);
    if (!shared) return unexpected(std::move(shared).error());
    std::set<std::string> sharing;
    for (const auto& [user_id, links] : *shared) {
      DriftItem item{m_name, "shared", links.front().employee_id, {}, links.front().user_name, user_id};
      for (const auto& link : links) {
        item.employee_ids.push_back(link.employee_id);
        sharing.insert(link.employee_id);
      }
      for (const auto& [key, user] : m_by_name)
        if (user.id == user_id) m_accounted.insert(key);
      std::string ids;
      for (const auto& id : item.employee_ids) ids += (ids.empty() ? "" : ", ") + id;
      item.detail = "linked to employees " + ids + " (links older than the one-employee-per-Zoom-user rule); "
                    "left alone: their events are held as conflicts — approve the owner's, reject the other's";
      m_report.employees_checked += static_cast<long long>(links.size());
      m_report.drift.push_back(std::move(item));
    }
    return sharing;
  }

  // One employee: in sync, left alone, or a drift item (fixed with `apply`).
  Result<void> check(const EmployeeRow& employee) {
    const Wanted wanted = wanted_in(m_rules, employee, m_name);
    // A link that cannot be read is not "no link": reconcile stops rather than judge on a guess.
    auto link = m_store.get_link(m_name, employee.employee_id);
    if (!link) return unexpected(std::move(link).error());
    const std::optional<LinkRow> linked = *link;
    if (!wanted.targeted && !linked) return {};
    ++m_report.employees_checked;
    const std::string user_name = wanted.desired ? wanted.desired->user_name : linked ? linked->user_name : "";
    auto it = m_by_name.find(ascii_lower(user_name));
    if (it == m_by_name.end() && linked) it = m_by_name.find(ascii_lower(linked->user_name));
    const ScimUser* user = it == m_by_name.end() ? nullptr : &it->second;
    if (user) m_accounted.insert(ascii_lower(user->user_name));

    const std::optional<bool> active = should_be_active(employee, wanted.desired, m_rules);
    if (!active) {   // on leave, unknown, or on_no_role: keep — no opinion
      ++m_report.left_alone;
      return {};
    }
    if (user && H2R_TRY(owned_by_another(employee, *user, user_name))) return {};
    Intent intent = fix_intent(m_name, wanted.desired, user_name, linked, user);
    DriftItem item{m_name, "", employee.employee_id, {employee.employee_id}, user_name, user ? user->id : ""};
    if (!classify(item, intent, employee, *active, user)) {
      ++m_report.in_sync;
      return {};
    }
    H2R_TRY(fix(item, intent, employee, user, linked.has_value()));
    m_report.drift.push_back(std::move(item));
    return {};
  }

  // The Zoom user found is another employee's (linked to it): reported "owned" and never changed for
  // this one, not even with `apply` (h2r-events(5), Conflicts). True when it is.
  Result<bool> owned_by_another(const EmployeeRow& employee, const ScimUser& user, const std::string& user_name) {
    auto owners = m_store.links_to_zoom_user(m_name, user.id, user.user_name);
    if (!owners) return unexpected(std::move(owners).error());
    auto other = std::find_if(owners->begin(), owners->end(),
                              [&](const LinkRow& l) { return l.employee_id != employee.employee_id; });
    if (other == owners->end()) return false;
    DriftItem item{m_name, "owned", employee.employee_id, {employee.employee_id}, user_name, user.id};
    item.detail = "the Zoom user this employee's userName finds is linked to employee " + other->employee_id +
                  "; left alone (fix the HR data of one of them)";
    m_report.drift.push_back(std::move(item));
    return true;
  }

  // With `apply`: carries `intent` out and stores the link, into item.fixed or item.fix_error.
  Result<void> fix(DriftItem& item, const Intent& intent, const EmployeeRow& employee, const ScimUser* user, bool linked) {
    if (!m_apply) return {};
    // A user found by userName for an employee with no link: its login must be (or become) this
    // employee's before anything changes, as in a run (Store::reserve_user_name).
    if (user && !linked) {
      auto holder = m_store.reserve_user_name({m_name, fold_case(user->user_name), user->user_name,
                                               employee.employee_id, to_unix_ms(m_clock.now())});
      if (!holder) return unexpected(std::move(holder).error());
      if (!holder->empty()) {
        item.fix_error = "userName '" + user->user_name + "' is reserved for employee " + *holder + "; left alone";
        return {};
      }
    }
    // A retry carries the intent out again: each step looks Zoom up first (provisioner.hpp).
    auto done = retried(m_retry, m_clock, m_rng, "fix " + item.kind + " of employee " + employee.employee_id, [&] {
      Provisioner provisioner(m_client, false, to_unix_ms(m_clock.now()));
      bind_to_store(provisioner, m_store, m_name, employee.employee_id, [this] { return to_unix_ms(m_clock.now()); });
      return provisioner.carry_out(intent, employee.employee_id);
    });
    // Fixed only when Zoom changed and the link that records it was stored: an unstored link
    // would leave h2r's view of the employee wrong.
    auto stored = done && done->link ? m_store.put_link(*done->link) : Result<void>{};
    if (done && !stored) {
      item.fix_error = "Zoom was changed (" + done->action + ") but storing the link failed: " + stored.error().message;
      spdlog::error("store.write_failed what=put_link connection={} employee=\"{}\" error=\"{}\"", escape_for_log(m_name),
                    escape_for_log(employee.employee_id), escape_for_log(stored.error().message));
    } else if (done) {
      item.fixed = true;
      spdlog::info("reconcile.fixed connection={} employee=\"{}\" kind={} action={}", escape_for_log(m_name),
                   escape_for_log(employee.employee_id), item.kind, done->action);
    } else {
      item.fix_error = done.error().message;
    }
    return {};
  }

  // Zoom users no employee accounts for: reported, never touched.
  void report_unaccounted() {
    for (const auto& [key, user] : m_by_name)
      if (!m_accounted.count(key)) {
        ++m_report.unaccounted;
        m_report.drift.push_back({m_name, "unaccounted", "", {}, user.user_name, user.id,
                                  "no employee accounts for this Zoom user (left alone)"});
      }
  }

  Store& m_store;
  ScimClient& m_client;
  const Rules& m_rules;
  const std::string m_name;
  const bool m_apply;
  const Clock& m_clock;
  const ReconcileRetry& m_retry;
  std::mt19937_64& m_rng;
  ReconcileReport& m_report;
  std::map<std::string, ScimUser> m_by_name;   // the connection's Zoom users, by userName (ASCII lower case)
  std::set<std::string> m_accounted;           // keys of m_by_name an employee accounts for
};

} // namespace

ReconcileRetry reconcile_retry(const Config& config) {
  ReconcileRetry retry;
  retry.max_attempts = std::min(config.max_attempts, k_reconcile_max_attempts);
  retry.base = std::min(config.retry_base, k_reconcile_max_wait);
  retry.max = std::min(config.retry_max, k_reconcile_max_wait);
  retry.max_wait = k_reconcile_max_wait;
  return retry;
}

long long ReconcileReport::employee_drift() const {
  long long out = 0;
  for (const auto& d : drift)
    if (d.kind == "shared") out += static_cast<long long>(d.employee_ids.size());
    else if (d.kind != "unaccounted") ++out;
  return out;
}

Result<ReconcileReport> reconcile(Store& store, ConnectionRegistry& connections, const Rules& rules,
                                  const std::optional<std::string>& only, bool apply, const Clock& clock,
                                  const ReconcileRetry& retry) {
  ReconcileReport report;
  std::mt19937_64 rng{std::random_device{}()};
  auto employees = store.list_employees();
  if (!employees) return unexpected(std::move(employees).error());
  std::vector<std::string> names = rules.connections();
  if (only) {
    if (std::find(names.begin(), names.end(), *only) == names.end())
      return fail(ErrorKind::not_found, "the rules name no connection '" + *only + "'");
    names = {*only};
  }
  for (const auto& name : names) {
    auto client = connections.client(name);
    if (!client) return unexpected(std::move(client).error());
    H2R_TRY(ConnectionCheck(store, **client, rules, name, apply, clock, retry, rng, report).run(*employees));
  }
  return report;
}

} // namespace h2r
