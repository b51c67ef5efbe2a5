#include "engine/schedule.hpp"
#include "engine/resync.hpp"

#include "core/time.hpp"
#include "hr/readers.hpp"

#include <algorithm>
#include <tuple>

namespace h2r {

Result<NewEvent> schedule_event(const HrEvent& event, const ScheduleOptions& options, SystemTime now) {
  SystemTime effective = now;
  if (!event.effective_date.empty()) {
    auto parsed = parse_effective_date(event.effective_date, options.time_zone);
    Result<void> window = parsed ? check_effective_window(*parsed, now, options.max_future_days) : Result<void>{};
    // A date without a time is a local midnight of the zone, and a hire's lead days count local days:
    // either needs the zone's rules on that day, which this machine may not list (zone_rules_end).
    const bool in_zone = is_date_only(event.effective_date) ||
                         (event.type == EventType::hire && options.hire_lead_days > 0);
    if (parsed && window && in_zone) window = check_zone_rules_cover(*parsed, options.time_zone);
    if (!parsed || !window) {
      const std::string why = !parsed ? parsed.error().message
                                      : "'" + event.effective_date + "' " + window.error().message;  // validated shape: safe to echo
      return fail(ErrorKind::invalid, FileProblem{event.record, event.line, "effective_date", why}.to_string());
    }
    effective = *parsed;
  }
  const SystemTime due = due_time(event.type, effective, options);
  return NewEvent{event, to_unix_ms(effective), to_unix_ms(due), due > now ? EventState::waiting : EventState::pending};
}

SystemTime due_time(EventType type, SystemTime effective, const ScheduleOptions& options) {
  if (type == EventType::hire && options.hire_lead_days > 0)
    return minus_days_in_zone(effective, options.hire_lead_days, options.time_zone);
  return effective;
}

std::optional<EventReschedule> reschedule_event(const EventRow& event, const ScheduleOptions& options, SystemTime now,
                                                const std::string& reason) {
  if (event.state != EventState::waiting || !event.claim_token.empty() || event.effective_raw.empty()) return std::nullopt;
  // No window check: the date was accepted when the event arrived, and a waiting event stays waiting.
  auto effective = parse_effective_date(event.effective_raw, options.time_zone);
  if (!effective) return std::nullopt;
  const SystemTime due = due_time(event.type, *effective, options);
  const long long effective_ms = to_unix_ms(*effective);
  const long long due_ms = to_unix_ms(due);
  if (effective_ms == event.effective_at_ms && due_ms == event.due_at_ms) return std::nullopt;
  return EventReschedule{event.id, effective_ms, due_ms, due > now ? EventState::waiting : EventState::pending,
                         reason + "; due " + format_utc(due) + " (was " + format_utc(from_unix_ms(event.due_at_ms)) + ")"};
}

std::string due_reason(const EventType type, long long effective_at_ms, long long due_at_ms) {
  if (type != EventType::hire || due_at_ms >= effective_at_ms) return "";
  // Whole days in the zone, rounded: a DST change makes one of them 23 or 25 hours.
  const long long days = (effective_at_ms - due_at_ms + 12 * 3600'000LL) / (24 * 3600'000LL);
  return std::to_string(days) + (days == 1 ? " day" : " days") + " of lifecycle.hire.lead_days before the effective date";
}

bool runs_before(const EventRow& a, const EventRow& b) {
  return std::tie(a.effective_at_ms, a.id) < std::tie(b.effective_at_ms, b.id);
}

std::string supervision_hold(const EventRow& event, const Lifecycle& lifecycle) {
  if (event.approved || !lifecycle.supervised.count(event.type)) return "";
  return std::string(k_supervised_prefix) + std::string(to_string(event.type)) + " waits for `h2rd events approve " +
         (event.id > 0 ? std::to_string(event.id) : "ID") + "`";
}

namespace {

// What the intent takes away that the employee's Zoom user has now: "" when nothing.
std::string taken_away(const Intent& intent) {
  if (intent.kind == IntentKind::deactivate) return "deactivate";
  if (intent.kind == IntentKind::remove) return "delete";
  for (const auto& [path, value] : intent.cleared)
    if (value.is_boolean() && !value.get<bool>()) return "turn off " + path;
  if (intent.link && intent.desired) {
    const auto& pushed = intent.link->pushed_body;
    const auto& body = intent.desired->body;
    if (pushed.is_object() && pushed.contains("userType") && body.contains("userType") &&
        pushed["userType"] != body["userType"] && body["userType"] == "Basic")
      return "make it a Basic user";
  }
  // On demand the whole user is pushed whatever was pushed before (Intent::push_anyway), and what Zoom
  // has now is not known before the calls: a Basic type or a license turned off in it counts as taken
  // away (someone may have upgraded the user by hand), so a "fix all" never downgrades past the guard.
  if (intent.push_anyway && intent.desired && intent.desired->body.is_object()) {
    const auto& body = intent.desired->body;
    if (body.contains("userType") && body["userType"] == "Basic") return "make it a Basic user";
    if (auto z = body.find(k_zoom_license_urn); z != body.end() && z->is_object())
      for (const auto& [license, on] : z->items())
        if (on.is_boolean() && !on.get<bool>()) return "turn off " + license;
  }
  return "";
}

} // namespace

std::string resync_hold(const EventRow& event, const EventPlan& plan, const Lifecycle& lifecycle) {
  if (event.type != EventType::resync || event.approved || !lifecycle.resync_deprovision_supervised) return "";
  for (const auto& intent : plan.intents)
    if (auto what = taken_away(intent); !what.empty())
      return std::string(k_supervised_prefix) + "this resync (a rules edit) would " + what + " for employee " + event.employee_id +
             " in " + intent.connection + "; approve it (`h2rd events approve " +
             (event.id > 0 ? std::to_string(event.id) : std::string("ID")) +
             "` or `--all`), or set lifecycle.resync.deprovision: auto";
  return "";
}

bool takes_away(const EventPlan& plan) {
  return std::any_of(plan.intents.begin(), plan.intents.end(), [](const Intent& i) { return !taken_away(i).empty(); });
}

std::string hold_before_calls(const EventRow& event, const EventPlan& plan, const Lifecycle& lifecycle,
                              const LinkSharers& sharers) {
  if (!plan.superseded.empty()) return "";
  if (!event.approved) {
    if (!plan.conflict.empty()) return plan.conflict;
    // A link that shares its Zoom user with another employee's (kept by the schema migration that
    // brought the one-employee-per-Zoom-user key): neither employee's events run until one is approved.
    for (const auto& intent : plan.intents) {
      if (!intent.link || !intent.link->shared) continue;
      const LinkRow& link = *intent.link;
      std::string others;
      auto owners = sharers(link);
      if (owners)
        for (const auto& owner : *owners)
          if (owner.employee_id != link.employee_id) others += (others.empty() ? "" : ", ") + owner.employee_id;
      if (owners && others.empty()) continue;   // the others moved on: the mark is stale
      return std::string(k_conflict_prefix) + "Zoom user '" + link.user_name + "' (id " + link.zoom_user_id +
             ") in connection '" + link.connection + "' is linked to employee " + link.employee_id +
             " and to employee(s) " + (others.empty() ? std::string("(unknown)") : others) +
             " (links older than the one-employee-per-Zoom-user rule). Nothing was changed at Zoom. Approve the "
             "event of the employee who owns that Zoom user (`h2rd events approve ID`); reject the other's";
    }
  }
  if (auto hold = supervision_hold(event, lifecycle); !hold.empty()) return hold;
  return resync_hold(event, plan, lifecycle);
}

bool guard_counts(const EventRow& event, const EventPlan& plan) { return !event.approved && takes_away(plan); }

void SetChanges::add(const EventRow& event) {
  ++count;
  last_due_ms = std::max(last_due_ms, event.due_at_ms);
}

bool still_to_run_in(const EventRow& other, const std::string& set, long long until_ms) {
  return (other.state == EventState::pending || other.state == EventState::waiting) && !other.approved &&
         other.due_at_ms < until_ms && guard_set(other) == set;
}

GuardRequest guard_request(const EventRow& member, const SetChanges& changes, long long now_ms,
                           const Lifecycle& lifecycle) {
  GuardRequest request{guard_set(member), now_ms, lifecycle.guard_per.count(), changes.count, lifecycle.guard_max};
  request.last_due_ms = changes.last_due_ms;
  return request;
}

std::string guard_set(const EventRow& event) { return event.source_file + "@" + std::to_string(event.received_at_ms); }

std::string guard_hold(const EventRow& member, int count, int counted, const Lifecycle& lifecycle) {
  const bool resync = member.source_file.starts_with(k_resync_source_prefix);
  const std::string set = resync ? "the resync of rules version " + member.source_file.substr(k_resync_source_prefix.size())
                                 : "file " + member.source_file;
  const std::string per = format_duration(lifecycle.guard_per);
  return std::string(k_guard_prefix) + set + " would take away " + std::to_string(count) +
         " (deactivate, delete, license or user type down)" +
         (counted > 0 ? " beside " + std::to_string(counted) + " reserved in the last " + per + " across every daemon" : "") +
         ", more than lifecycle.guard.max (" + std::to_string(lifecycle.guard_max) + ") per " + per + ". All " +
         (resync ? "of this resync" : "of this file") + " that takes something away is held; approve with "
         "`h2rd events approve --all` (or one by one), or reject";
}

} // namespace h2r
