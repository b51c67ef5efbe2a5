// The operator's actions on events — approve, reject, retry — shared by `h2rd events` and the console's
// POST /api/v1/events/{verb}, so that both check and change the same way (issue 27: "CLI and console
// share one implementation of each action"). A request names events one by one (ids), or as a selection
// with the count its caller saw: every held event (approve), every failed one (retry, optionally only
// those whose reason holds a text), every open one of a source file (reject; approve and retry narrow to
// a file too). The whole request is checked before anything changes: an unknown id, an event in a state
// the action does not apply to, or a selection that now means another number of events changes nothing.
// Each event then changes through the Store call for it (approve_event, reject_event, retry_event), with
// the store's actor in its history.
#pragma once

#include "store/store.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace h2r {

inline constexpr long long k_max_selected_events = 1'000'000;
inline constexpr std::size_t k_max_selection_text = 256;   // source_file, reason_contains

struct EventSelection {
  std::vector<long long> ids;     // these events; or, when empty, the selection below
  bool all = false;               // every event the verb applies to now, narrowed by the two fields below
  std::string source_file;        // only events from this file (its name, with or without the folder)
  std::string reason_contains;    // only events whose reason holds this text (ASCII case ignored)
  bool waiting_retries = false;   // retry: the pending events waiting out a backoff, made due now,
                                  // instead of the failed ones (after an outage: no need to wait)
  long long expect_count = -1;    // with `all`: how many the caller saw; another number now changes nothing
};

struct EventActionOutcome {
  int status = 200;               // 200 done (see errors); 400 a selection not allowed; 404 an unknown id;
                                  // 409 refused (an event's state, or the count); 500 the store failed
  std::string error;              // why nothing changed, when status != 200
  std::vector<std::string> refusals;       // 409 for ids: one per event the verb does not apply to
  long long count = -1;                    // a selection: how many events it means now
  std::vector<long long> ids;              // the events acted on
  long long changed = 0;
  // An event that moved on between the check and its change (the daemon or another operator acted).
  std::vector<std::pair<long long, std::string>> errors;
};

// What a selection means, in words: "held", "failed whose reason holds 'timeout'", "pending, waiting or
// held from hires.csv".
std::string describe_selection(std::string_view verb, const EventSelection& selection);

// Checks the request whole, then applies `verb` ("approve", "reject" or "retry") to each event.
// `reject_reason` is kept in the history of each rejected event.
EventActionOutcome act_on_events(Store& store, std::string_view verb, const EventSelection& selection,
                                 const std::string& reject_reason, long long now_ms);

} // namespace h2r
