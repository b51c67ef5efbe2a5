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
    std::map<std::string, ScimUser> by_name;
    // Paging must advance: a page that starts elsewhere than asked, or lists no user not listed
    // before, means the server ignores startIndex, and the walk stops with an error rather than
    // asking forever; k_max_pages bounds it whatever totalResults says.
    for (long long start = 1, pages = 1;; ++pages) {
      const std::string asked = "list users of " + name + " from startIndex " + std::to_string(start);
      const std::string where = asked + ": ";
      auto page = retried(retry, clock, rng, asked, [&] { return (*client)->list_users(start, k_page_size); });
      if (!page) return unexpected(std::move(page).error());
      if (page->start_index != start)
        return fail(ErrorKind::transient, where + "Zoom's answer starts at " + std::to_string(page->start_index) +
                                              " (it does not page): stopped");
      std::size_t fresh = 0;
      for (auto& u : page->users) fresh += by_name.insert_or_assign(ascii_lower(u.user_name), u).second ? 1 : 0;
      if (!page->users.empty() && fresh == 0)
        return fail(ErrorKind::transient, where + "Zoom's answer lists only users listed before (it does not page): stopped");
      start += static_cast<long long>(page->users.size());
      if (page->users.empty() || start > page->total) break;
      if (pages >= k_max_pages)
        return fail(ErrorKind::transient, where + "more than " + std::to_string(k_max_pages) + " pages of " +
                                              std::to_string(k_page_size) + " users: stopped");
    }
    report.zoom_users += static_cast<long long>(by_name.size());
    std::set<std::string> accounted;
    // A Zoom user two employees are linked to: reported, and neither employee is checked further.
    auto shared = shared_links(store, name);
    if (!shared) return unexpected(std::move(shared).error());
    std::set<std::string> sharing;   // their employee ids
    for (const auto& [user_id, links] : *shared) {
      DriftItem item{name, "shared", links.front().employee_id, {}, links.front().user_name, user_id};
      for (const auto& link : links) {
        item.employee_ids.push_back(link.employee_id);
        sharing.insert(link.employee_id);
      }
      for (const auto& [key, user] : by_name)
        if (user.id == user_id) accounted.insert(key);
      std::string ids;
      for (const auto& id : item.employee_ids) ids += (ids.empty() ? "" : ", ") + id;
      item.detail = "linked to employees " + ids + " (links older than the one-employee-per-Zoom-user rule); "
                    "left alone: their events are held as conflicts — approve the owner's, reject the other's";
      report.employees_checked += static_cast<long long>(links.size());
      report.drift.push_back(std::move(item));
    }
    for (const auto& employee : *employees) {
      if (sharing.count(employee.employee_id)) continue;
      std::optional<DesiredUser> desired;
      bool targeted = false;
      for (auto& d : rules.decide(employee.record))
        if (d.connection == name) {
          targeted = true;
          desired = d.desired;
        }
      // A link that cannot be read is not "no link": reconcile stops rather than judge on a guess.
      auto link = store.get_link(name, employee.employee_id);
      if (!link) return unexpected(std::move(link).error());
      std::optional<LinkRow> linked = *link;
      if (!targeted && !linked) continue;
      ++report.employees_checked;
      std::string user_name = desired ? desired->user_name : linked ? linked->user_name : "";
      auto it = by_name.find(ascii_lower(user_name));
      if (it == by_name.end() && linked) it = by_name.find(ascii_lower(linked->user_name));
      const ScimUser* user = it == by_name.end() ? nullptr : &it->second;
      if (user) accounted.insert(ascii_lower(user->user_name));

      // What should be: active with the desired attributes, or inactive (or absent).
      std::optional<bool> should_be_active;
      if (employee.status == HrStatus::active && desired) should_be_active = true;
      else if (employee.status == HrStatus::terminated) should_be_active = false;
      else if (employee.status == HrStatus::active && !desired && rules.on_no_role() == OnNoRole::deprovision) should_be_active = false;
      if (!should_be_active) {   // on leave, unknown, or on_no_role: keep — no opinion
        ++report.left_alone;
        continue;
      }

      // The Zoom user found is another employee's (linked to it): never changed for this one, not even
      // with `apply` (h2r-events(5), Conflicts).
      if (user) {
        auto owners = store.links_to_zoom_user(name, user->id, user->user_name);
        if (!owners) return unexpected(std::move(owners).error());
        auto other = std::find_if(owners->begin(), owners->end(),
                                  [&](const LinkRow& l) { return l.employee_id != employee.employee_id; });
        if (other != owners->end()) {
          DriftItem item{name, "owned", employee.employee_id, {employee.employee_id}, user_name, user->id};
          item.detail = "the Zoom user this employee's userName finds is linked to employee " + other->employee_id +
                        "; left alone (fix the HR data of one of them)";
          report.drift.push_back(std::move(item));
          continue;
        }
      }

      Intent intent;
      intent.connection = name;
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
      DriftItem item{name, "", employee.employee_id, {employee.employee_id}, user_name, user ? user->id : ""};
      if (*should_be_active && !user) {
        item.kind = "missing";
        item.detail = "no Zoom user " + user_name;
        intent.kind = IntentKind::provision;
        intent.link.reset();
      } else if (*should_be_active && !user->active) {
        item.kind = "active_state";
        item.detail = "inactive in Zoom, active in HR";
        intent.kind = IntentKind::provision;
      } else if (!*should_be_active && user && user->active) {
        item.kind = "active_state";
        item.detail = "active in Zoom, " + std::string(employee.status == HrStatus::terminated ? "terminated" : "no role") + " in HR";
        intent.kind = IntentKind::deactivate;
        intent.desired.reset();
        if (!intent.link) intent.link = LinkRow{name, employee.employee_id, user->id, user->user_name, "", true};
      } else if (*should_be_active && user) {
        item.changes = visible_diff(user->body, desired->body);
        if (item.changes.empty()) {
          ++report.in_sync;
          continue;
        }
        item.kind = "attributes";
        item.detail = std::to_string(item.changes.size()) + " attribute(s) differ";
        intent.kind = IntentKind::provision;
        if (!intent.link) intent.link = LinkRow{name, employee.employee_id, user->id, user->user_name, "", true};
      } else {
        ++report.in_sync;
        continue;
      }
      // A user found by userName for an employee with no link: its login must be (or become) this
      // employee's before anything changes, as in a run (Store::reserve_user_name).
      std::string holder;
      if (apply && user && !linked) {
        auto reserved = store.reserve_user_name({name, fold_case(user->user_name), user->user_name,
                                                 employee.employee_id, to_unix_ms(clock.now())});
        if (!reserved) return unexpected(std::move(reserved).error());
        holder = *reserved;
      }
      if (!holder.empty()) {
        item.fix_error = "userName '" + user->user_name + "' is reserved for employee " + holder + "; left alone";
      } else if (apply) {
        // A retry carries the intent out again: each step looks Zoom up first (provisioner.hpp).
        auto done = retried(retry, clock, rng, "fix " + item.kind + " of employee " + employee.employee_id, [&] {
          Provisioner provisioner(**client, false, to_unix_ms(clock.now()));
          bind_to_store(provisioner, store, name, employee.employee_id, [&clock] { return to_unix_ms(clock.now()); });
          return provisioner.carry_out(intent, employee.employee_id);
        });
        // Fixed only when Zoom changed and the link that records it was stored: an unstored link
        // would leave h2r's view of the employee wrong.
        auto stored = done && done->link ? store.put_link(*done->link) : Result<void>{};
        if (done && !stored) {
          item.fix_error = "Zoom was changed (" + done->action + ") but storing the link failed: " + stored.error().message;
          spdlog::error("store.write_failed what=put_link connection={} employee=\"{}\" error=\"{}\"",
                        escape_for_log(name), escape_for_log(employee.employee_id), escape_for_log(stored.error().message));
        } else if (done) {
          item.fixed = true;
          spdlog::info("reconcile.fixed connection={} employee=\"{}\" kind={} action={}", escape_for_log(name),
                       escape_for_log(employee.employee_id), item.kind, done->action);
        } else {
          item.fix_error = done.error().message;
        }
      }
      report.drift.push_back(std::move(item));
    }
    for (const auto& [key, user] : by_name)
      if (!accounted.count(key)) {
        ++report.unaccounted;
        report.drift.push_back({name, "unaccounted", "", {}, user.user_name, user.id,
                                "no employee accounts for this Zoom user (left alone)"});
      }
  }
  return report;
}

} // namespace h2r
