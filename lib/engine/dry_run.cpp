#include "engine/dry_run.hpp"

#include "core/time.hpp"
#include "engine/date_order.hpp"
#include "engine/provisioner.hpp"

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

Result<void> DryRun::plan_one(PlannedEvent& planned) {
  const EventRow& event = planned.event;
  const PlanInputs in = H2R_TRY(inputs_for(event));
  planned.plan = plan_in_date_order(event, in.employee, in.links, m_rules, H2R_TRY(later_final_events(m_store, event)));
  for (const auto& intent : planned.plan.intents) {
    auto client = m_connections.client(intent.connection);
    if (!client) {
      planned.actions.push_back({{"connection", intent.connection}, {"error", client.error().message}});
      planned.failed = true;
      continue;
    }
    Provisioner provisioner(**client, true, m_now_ms);
    auto report = provisioner.carry_out(intent, event.employee_id);
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
      link = LinkRow{intent.connection, event.employee_id, "(new)", report->user_name,
                     desired_digest(*intent.desired, true), true};
  }
  m_employees[event.employee_id] = planned.plan.employee;
  return {};
}

std::string DryRun::plan_hold(const EventRow& event, const EventPlan& plan) const {
  // As Engine::hold_supervised: a superseded event is never held; a conflict (an employee id reused?)
  // comes first, then supervision, then a resync that takes something away.
  if (!plan.superseded.empty()) return "";
  if (!event.approved && !plan.conflict.empty()) return plan.conflict;
  if (auto hold = supervision_hold(event, m_rules.lifecycle()); !hold.empty()) return hold;
  return resync_hold(event, plan, m_rules.lifecycle());
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
  // Each employee's events: the open ones stored, then the file's, in the order the engine runs them.
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

  struct Lane {
    std::vector<PlannedEvent>* events;
    std::size_t next = 0;            // the employee's next event not yet taken
    long long ready_ms = 0;          // when the previous one ran
    std::string held_by;             // HR id of a held event: nothing after it runs
  };
  std::map<std::string, Lane> lanes;
  for (auto& [employee, list] : by_employee) lanes[employee] = Lane{&list};
  std::vector<PlannedEvent*> order;  // as the engine would take them

  // A held stored event at the head of its lane: shown where it stands, blocking the rest.
  auto take_stored_holds = [&]() -> Result<void> {
    for (auto& [employee, lane] : lanes) {
      if (!lane.held_by.empty() || lane.next >= lane.events->size()) continue;
      PlannedEvent& head = (*lane.events)[lane.next];
      if (head.event.state != EventState::held) continue;
      H2R_TRY(plan_one(head));
      head.hold = head.event.reason.empty() ? "held for approval" : head.event.reason;
      lane.held_by = head.event.event_id;
      ++lane.next;
      order.push_back(&head);
    }
    return {};
  };

  // Cycles as Engine::run_cycle: at `at`, batches of each employee's next due event; per batch the
  // supervised ones are held, then the guard looks at the cycle's deactivations.
  long long at = m_now_ms;
  std::map<std::string, GuardSetRow> guard_sets;   // the guard's decisions in this plan, by set
  std::map<std::string, std::string> refusals;   // set → the reason it was refused
  for (;;) {
    for (;;) {
      H2R_TRY(take_stored_holds());
      std::vector<std::pair<Lane*, PlannedEvent*>> batch;
      for (auto& [employee, lane] : lanes) {
        if (!lane.held_by.empty() || lane.next >= lane.events->size()) continue;
        PlannedEvent& head = (*lane.events)[lane.next];
        if (std::max(head.event.due_at_ms, lane.ready_ms) <= at) batch.emplace_back(&lane, &head);
      }
      if (batch.empty()) break;
      std::stable_sort(batch.begin(), batch.end(), [](const auto& a, const auto& b) {
        return std::tie(a.second->event.due_at_ms, a.second->event.id) < std::tie(b.second->event.due_at_ms, b.second->event.id);
      });
      for (auto& [lane, p] : batch) {
        const long long due = p->event.due_at_ms;
        p->runs_at_ms = at;
        if (at > m_now_ms) {
          if (lane->ready_ms > due && lane->next > 0)
            p->due_why = "after event " + (*lane->events)[lane->next - 1].event.event_id + " of the same employee";
          else if (p->queued && p->event.attempts > 0)
            p->due_why = "next attempt (" + std::to_string(p->event.attempts) + " made)";
          else if (auto lead = due_reason(p->event.type, p->event.effective_at_ms, due); !lead.empty())
            p->due_why = lead;
          else
            p->due_why = "effective date";
        }
        H2R_TRY(plan_one(*p));
        EventRow shown = p->event;
        if (!p->queued) shown.id = 0;   // a file's event has no number yet
        p->hold = plan_hold(shown, p->plan);
        order.push_back(p);
      }
      // The guard, as Engine::apply_guard: each set of changes (a file, a resync) is decided when it is
      // first seen, on its changes planned so far, in a window of this plan's own grants.
      auto guarded = [](const PlannedEvent& p) { return p.hold.empty() && !p.event.approved && takes_away(p.plan); };
      std::map<std::string, int> in_batch;
      for (auto& [lane, p] : batch)
        if (guarded(*p)) ++in_batch[guard_set(p->event)];
      // A set's changes still to run, as Engine::set_changes: this batch's, and the set's events not
      // taken yet and due within the window, each planned on what the events before it left.
      std::set<const PlannedEvent*> batched;
      for (auto& [lane, p] : batch) batched.insert(p);
      auto still_to_run = [&](const std::string& set) -> Result<int> {
        int count = in_batch[set];
        for (auto& [employee, lane] : lanes)
          for (std::size_t i = lane.next; i < lane.events->size(); ++i) {
            const PlannedEvent& other = (*lane.events)[i];
            if (batched.count(&other) || other.event.approved || other.event.state == EventState::held || guard_set(other.event) != set ||
                other.event.due_at_ms >= at + m_rules.lifecycle().guard_per.count())
              continue;
            const PlanInputs in = H2R_TRY(inputs_for(other.event));
            if (takes_away(plan_event(other.event, in.employee, in.links, m_rules))) ++count;
          }
        return count;
      };
      std::map<std::string, std::string> refused;
      for (auto& [lane, p] : batch) {
        const std::string set = guard_set(p->event);
        if (!guarded(*p) || refused.count(set) || !in_batch.count(set)) continue;
        const Lifecycle& lifecycle = m_rules.lifecycle();
        // A refused set keeps its reason, as the engine keeps its decision (a refusal stands).
        if (auto r = refusals.find(set); r != refusals.end()) {
          refused[set] = r->second;
          continue;
        }
        const int count = H2R_TRY(still_to_run(set));
        long long others = 0;
        for (const auto& [other, g] : guard_sets)
          if (other != set && g.at_ms > at - lifecycle.guard_per.count()) others += g.count;
        std::optional<GuardSetRow> mine;
        if (auto it = guard_sets.find(set); it != guard_sets.end() && it->second.at_ms > at - lifecycle.guard_per.count())
          mine = it->second;
        const GuardRequest request{set, at, lifecycle.guard_per.count(), count, lifecycle.guard_max};
        const GuardDecision d = decide_guard(request, mine, others);
        if (d.write) guard_sets[set] = GuardSetRow{d.at_ms, d.count, !d.answer.granted};
        if (!d.answer.granted) {
          refused[set] = guard_hold(p->event, count, d.answer.counted, lifecycle);
          refusals[set] = refused[set];
        }
        in_batch.erase(set);
      }
      for (auto& [lane, p] : batch) {
        if (guarded(*p))
          if (auto it = refused.find(guard_set(p->event)); it != refused.end()) p->hold = it->second;
        ++lane->next;
        if (p->hold.empty()) lane->ready_ms = at;
        else lane->held_by = p->event.event_id;
      }
    }
    // The next cycle that finds work: the earliest instant an employee's next event falls due.
    std::optional<long long> next;
    for (auto& [employee, lane] : lanes) {
      if (!lane.held_by.empty() || lane.next >= lane.events->size()) continue;
      const long long due = std::max((*lane.events)[lane.next].event.due_at_ms, lane.ready_ms);
      if (!next || due < *next) next = due;
    }
    if (!next) break;
    at = std::max(*next, at + 1);
  }
  // What waits behind a held event: planned in order (as if the held one were approved), no due time.
  for (auto& [employee, lane] : lanes) {
    for (; lane.next < lane.events->size(); ++lane.next) {
      PlannedEvent& p = (*lane.events)[lane.next];
      H2R_TRY(plan_one(p));
      p.blocked_by = lane.held_by;
      EventRow shown = p.event;
      if (!p.queued) shown.id = 0;
      p.hold = plan_hold(shown, p.plan);   // held in its turn, too
      order.push_back(&p);
    }
  }
  std::vector<PlannedEvent> out;
  out.reserve(order.size());
  for (auto* p : order) out.push_back(std::move(*p));
  return out;
}

} // namespace h2r
