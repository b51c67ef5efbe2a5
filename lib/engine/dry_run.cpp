#include "engine/dry_run.hpp"

#include "core/time.hpp"
#include "engine/date_order.hpp"
#include "engine/provisioner.hpp"
#include "rules/text_fold.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

namespace h2r {
namespace {

// File events arrive after everything stored: ids above any stored one keep runs_before's order.
constexpr long long k_file_id_base = 1LL << 60;

} // namespace

EventRow event_row(const NewEvent& row, long long id, const std::string& source_file) {
  EventRow e;
  e.id = id;
  e.event_id = row.event.event_id;
  e.type = row.event.type;
  e.leave_type = row.event.leave_type;
  e.employee_id = row.event.employee_id;
  e.fields = row.event.fields;
  e.effective_raw = row.event.effective_date;
  e.effective_at_ms = row.effective_at_ms;
  e.due_at_ms = row.due_at_ms;
  e.state = row.state;
  e.source_file = source_file;
  return e;
}

Result<PlanInputs> DryRun::inputs_for(const EventRow& event) {
  PlanInputs in;
  if (auto it = m_employees.find(event.employee_id); it != m_employees.end()) in.employee = it->second;
  else in.employee = H2R_TRY(m_store.get_employee(event.employee_id));
  for (const auto& c : m_connection_rows) {
    const auto key = std::make_pair(c.name, event.employee_id);
    auto it = m_links.find(key);
    if (it == m_links.end()) it = m_links.emplace(key, H2R_TRY(m_store.get_link(c.name, event.employee_id))).first;
    if (it->second) in.links.push_back(*it->second);
  }
  return in;
}

Result<std::vector<LinkRow>> DryRun::owners(const std::string& connection, const std::string& zoom_user_id,
                                            const std::string& user_name) {
  std::vector<LinkRow> out;
  // A stored link of an employee this plan has planned stands as the plan left it (below).
  for (auto& link : H2R_TRY(m_store.links_to_zoom_user(connection, zoom_user_id, user_name)))
    if (!m_links.count({connection, link.employee_id})) out.push_back(std::move(link));
  const std::string folded = user_name.empty() ? "" : fold_case(user_name);
  for (const auto& [key, link] : m_links)
    if (key.first == connection && link &&
        ((!zoom_user_id.empty() && link->zoom_user_id == zoom_user_id) ||
         (!folded.empty() && fold_case(link->user_name) == folded)))
      out.push_back(*link);
  return out;
}

Result<void> DryRun::plan_one(PlannedEvent& planned) {
  const EventRow& event = planned.event;
  const PlanInputs in = H2R_TRY(inputs_for(event));
  planned.plan = plan_in_date_order(event, in.employee, in.links, m_rules, H2R_TRY(later_final_events(m_store, event)));
  std::string conflict;
  for (const auto& intent : planned.plan.intents) {
    auto client = m_connections.client(intent.connection);
    if (!client) {
      planned.actions.push_back({{"connection", intent.connection}, {"error", client.error().message}});
      planned.failed = true;
      continue;
    }
    Provisioner provisioner(**client, true, m_now_ms);
    provisioner.set_owner_lookup([this, connection = intent.connection](const std::string& id, const std::string& name) {
      return owners(connection, id, name);
    });
    auto report = provisioner.carry_out(intent, event.employee_id);
    if (!report && report.error().reason == ErrorReason::owned_by_another) {
      // As Engine::process: nothing is called at this target, and the event is held with the conflict.
      if (conflict.empty()) conflict = report.error().message;
      ActionReport held{intent.connection, "held", "", intent.desired ? intent.desired->user_name : intent.user_name};
      planned.actions.push_back(held.to_json());
      continue;
    }
    if (!report) {
      planned.actions.push_back({{"connection", intent.connection}, {"error", report.error().message}});
      planned.failed = true;
      continue;
    }
    planned.actions.push_back(report->to_json());
    auto& link = m_links[{intent.connection, event.employee_id}];
    if (report->link) link = report->link;
    else if (report->remove_link) link.reset();
    else if (report->action == "created" && intent.desired)   // a dry-run create has no Zoom id yet
      link = LinkRow{intent.connection, event.employee_id, k_planned_user_id, report->user_name,
                     desired_digest(*intent.desired, true), true};
  }
  // A held conflict leaves the employee's record as it was (Engine::process).
  if (conflict.empty()) m_employees[event.employee_id] = planned.plan.employee;
  else m_call_conflicts[&planned] = std::move(conflict);
  return {};
}

std::string DryRun::plan_hold(const PlannedEvent& planned) {
  EventRow shown = planned.event;
  if (!planned.queued) shown.id = 0;   // a file's event has no number yet
  return hold_before_calls(shown, planned.plan, m_rules.lifecycle(), [this](const LinkRow& link) {
    return m_store.links_to_zoom_user(link.connection, link.zoom_user_id, "");
  });
}

Result<std::vector<PlannedEvent>> DryRun::run(std::vector<EventRow> file_events) {
  return run_for(std::move(file_events), {});
}

Result<std::optional<PlannedEvent>> DryRun::plan_stored(long long id) {
  auto event = H2R_TRY(m_store.get_event(id));
  if (!event) return std::optional<PlannedEvent>();
  auto planned = H2R_TRY(run_for({}, {event->employee_id}));
  for (auto& p : planned)
    if (p.queued && p.event.id == id) return std::optional<PlannedEvent>(std::move(p));
  return std::optional<PlannedEvent>();
}

Result<std::vector<PlannedEvent>> DryRun::run_for(std::vector<EventRow> file_events,
                                                  const std::vector<std::string>& employees) {
  m_connection_rows = H2R_TRY(m_store.list_connections());
  auto by_employee = H2R_TRY(queues(std::move(file_events), employees));
  Lanes lanes;
  for (auto& [employee, list] : by_employee) lanes[employee] = Lane{&list};
  Order order;
  H2R_TRY(run_cycles(lanes, order));
  H2R_TRY(plan_blocked(lanes, order));
  std::vector<PlannedEvent> out;
  out.reserve(order.size());
  for (auto* p : order) out.push_back(std::move(*p));
  return out;
}

Result<std::map<std::string, std::vector<PlannedEvent>>> DryRun::queues(std::vector<EventRow> file_events,
                                                                        const std::vector<std::string>& employees) {
  std::map<std::string, std::vector<PlannedEvent>> by_employee;
  for (std::size_t i = 0; i < file_events.size(); ++i) {
    PlannedEvent p;
    p.event = std::move(file_events[i]);
    p.event.id = k_file_id_base + static_cast<long long>(i);
    by_employee[p.event.employee_id].push_back(std::move(p));
  }
  for (const auto& employee : employees) by_employee[employee];
  for (auto& [employee, list] : by_employee) {
    for (EventState state : {EventState::pending, EventState::waiting, EventState::held}) {
      EventFilter filter;
      filter.state = state;
      filter.employee_id = employee;
      filter.limit = k_queue_limit;
      for (auto& stored : H2R_TRY(m_store.list_events(filter))) {
        PlannedEvent p;
        p.event = std::move(stored);
        p.queued = true;
        list.push_back(std::move(p));
      }
    }
    std::stable_sort(list.begin(), list.end(),
                     [](const PlannedEvent& a, const PlannedEvent& b) { return runs_before(a.event, b.event); });
  }
  return by_employee;
}

Result<void> DryRun::run_cycles(Lanes& lanes, Order& order) {
  for (long long at = m_now_ms;;) {
    for (;;) {
      H2R_TRY(take_stored_holds(lanes, order));
      const Batch batch = due_batch(lanes, at);
      if (batch.empty()) break;
      H2R_TRY(plan_batch(batch, at, order));
      H2R_TRY(apply_guard(batch, lanes, at));
      advance(batch);
    }
    const auto next = next_due(lanes);
    if (!next) return {};
    at = std::max(*next, at + 1);
  }
}

Result<void> DryRun::take_stored_holds(Lanes& lanes, Order& order) {
  for (auto& [employee, lane] : lanes) {
    if (!lane.open() || lane.head().event.state != EventState::held) continue;
    PlannedEvent& head = lane.head();
    H2R_TRY(plan_one(head));
    head.hold = head.event.reason.empty() ? "held for approval" : head.event.reason;
    lane.held_by = head.event.event_id;
    ++lane.next;
    order.push_back(&head);
  }
  return {};
}

DryRun::Batch DryRun::due_batch(Lanes& lanes, long long at) {
  Batch batch;
  for (auto& [employee, lane] : lanes)
    if (lane.open() && std::max(lane.head().event.due_at_ms, lane.ready_ms) <= at) batch.emplace_back(&lane, &lane.head());
  std::stable_sort(batch.begin(), batch.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second->event.due_at_ms, a.second->event.id) < std::tie(b.second->event.due_at_ms, b.second->event.id);
  });
  return batch;
}

std::string DryRun::due_why(const Lane& lane, const PlannedEvent& p, long long at) const {
  if (at <= m_now_ms) return "";
  const long long due = p.event.due_at_ms;
  if (lane.ready_ms > due && lane.next > 0)
    return "after event " + (*lane.events)[lane.next - 1].event.event_id + " of the same employee";
  if (p.queued && p.event.attempts > 0) return "next attempt (" + std::to_string(p.event.attempts) + " made)";
  if (auto lead = due_reason(p.event.type, p.event.effective_at_ms, due); !lead.empty()) return lead;
  return "effective date";
}

Result<void> DryRun::plan_batch(const Batch& batch, long long at, Order& order) {
  for (const auto& [lane, p] : batch) {
    p->runs_at_ms = at;
    p->due_why = due_why(*lane, *p, at);
    H2R_TRY(plan_one(*p));
    p->hold = plan_hold(*p);
    order.push_back(p);
  }
  return {};
}

Result<void> DryRun::apply_guard(const Batch& batch, const Lanes& lanes, long long at) {
  // Each set of changes (a file, a resync) is decided when it is first seen, on its changes planned so
  // far, in a window of this plan's own reservations.
  auto guarded = [](const PlannedEvent& p) { return p.hold.empty() && guard_counts(p.event, p.plan); };
  std::map<std::string, std::string> verdicts;   // set → its hold ("" granted)
  for (const auto& [lane, p] : batch) {
    const std::string set = guard_set(p->event);
    if (guarded(*p) && !verdicts.count(set)) verdicts[set] = H2R_TRY(reserve_guard(*p, batch, lanes, at));
  }
  for (const auto& [lane, p] : batch) {
    if (!guarded(*p)) continue;
    if (const std::string& hold = verdicts[guard_set(p->event)]; !hold.empty()) p->hold = hold;
  }
  // Past the guard, a call the owner check refuses holds the event as a conflict (Engine::process).
  for (const auto& [lane, p] : batch)
    if (auto it = m_call_conflicts.find(p); it != m_call_conflicts.end() && p->hold.empty()) p->hold = it->second;
  return {};
}

Result<std::string> DryRun::reserve_guard(const PlannedEvent& member, const Batch& batch, const Lanes& lanes,
                                          long long at) {
  const Lifecycle& lifecycle = m_rules.lifecycle();
  const std::string set = guard_set(member.event);
  // A refused set keeps its reason, as the engine keeps its decision (a refusal stands).
  if (auto r = m_refusals.find(set); r != m_refusals.end()) return r->second;
  const SetChanges changes = H2R_TRY(set_changes(set, batch, lanes, at + lifecycle.guard_per.count()));
  // The window as the store reads it (Store::reserve_guard): the set's row and the places the others hold.
  const long long since = at - lifecycle.guard_per.count();
  long long others = 0;
  for (const auto& [other, row] : m_guard_sets)
    if (other != set && row.at_ms > since) others += row.count;
  std::optional<GuardSetRow> mine;
  if (auto it = m_guard_sets.find(set); it != m_guard_sets.end() && it->second.at_ms > since) mine = it->second;
  const GuardDecision d = decide_guard(guard_request(member.event, changes, at, lifecycle), mine, others);
  if (d.write) m_guard_sets[set] = GuardSetRow{d.at_ms, d.count, !d.answer.granted};
  if (d.answer.granted) return std::string();
  return m_refusals[set] = guard_hold(member.event, changes.count, d.answer.counted, lifecycle);
}

Result<SetChanges> DryRun::set_changes(const std::string& set, const Batch& batch, const Lanes& lanes,
                                       long long until_ms) {
  SetChanges changes;
  std::set<const PlannedEvent*> batched;
  for (const auto& [lane, p] : batch) {
    batched.insert(p);
    if (p->hold.empty() && guard_counts(p->event, p->plan) && guard_set(p->event) == set) changes.add(p->event);
  }
  for (const auto& [employee, lane] : lanes)
    for (std::size_t i = lane.next; i < lane.events->size(); ++i) {
      const PlannedEvent& other = (*lane.events)[i];
      if (batched.count(&other) || !still_to_run_in(other.event, set, until_ms)) continue;
      const PlanInputs in = H2R_TRY(inputs_for(other.event));
      if (guard_counts(other.event, plan_event(other.event, in.employee, in.links, m_rules))) changes.add(other.event);
    }
  return changes;
}

void DryRun::advance(const Batch& batch) {
  for (const auto& [lane, p] : batch) {
    ++lane->next;
    if (p->hold.empty()) lane->ready_ms = p->runs_at_ms.value_or(lane->ready_ms);
    else lane->held_by = p->event.event_id;
  }
}

std::optional<long long> DryRun::next_due(const Lanes& lanes) {
  std::optional<long long> next;
  for (const auto& [employee, lane] : lanes) {
    if (!lane.open()) continue;
    const long long due = std::max(lane.head().event.due_at_ms, lane.ready_ms);
    if (!next || due < *next) next = due;
  }
  return next;
}

Result<void> DryRun::plan_blocked(Lanes& lanes, Order& order) {
  for (auto& [employee, lane] : lanes) {
    for (; lane.next < lane.events->size(); ++lane.next) {
      PlannedEvent& p = lane.head();
      H2R_TRY(plan_one(p));
      p.blocked_by = lane.held_by;
      p.hold = plan_hold(p);   // held in its turn, too
      if (auto it = m_call_conflicts.find(&p); it != m_call_conflicts.end() && p.hold.empty()) p.hold = it->second;
      order.push_back(&p);
    }
  }
  return {};
}

} // namespace h2r
