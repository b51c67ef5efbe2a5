// Rescheduling: when the settings that decide a waiting event's due time change (timezone,
// lifecycle.hire.lead_days), every waiting event gets the times ingest would give it now
// (reschedule_event, engine/schedule.hpp), a batch per store transaction. Claimed events, events
// already due (pending, retrying) and held ones keep theirs.
#pragma once

#include "core/clock.hpp"
#include "core/expected.hpp"
#include "engine/schedule.hpp"
#include "store/store.hpp"

#include <string>

namespace h2r {

// Waiting events read and rewritten per store transaction.
inline constexpr int k_reschedule_batch = 500;

struct RescheduleTotals {
  int events = 0;    // waiting events whose times changed
  int earlier = 0;   // of them, due earlier than before
  int later = 0;     // due later than before
  int due_now = 0;   // of the earlier ones, due by now (pending)
};

// The settings reschedule_waiting follows, as one text ("timezone=Europe/Berlin lead_days=3 tzdata=2025b"):
// what the store keeps (meta schedule.settings) to know whether they changed since waiting events were
// timed. The tzdata release is one of them: new zone rules move the local midnights events wait for.
std::string schedule_settings(const ScheduleOptions& options);

// Gives every waiting event the due time `options` makes (history reason: "rescheduled: " + `why`).
// Recomputing under the same options changes nothing; each batch is one transaction, so an error
// leaves earlier batches done and the rest as they were (a second run finishes the job).
Result<RescheduleTotals> reschedule_waiting(Store& store, const ScheduleOptions& options, SystemTime now,
                                           const std::string& why);

} // namespace h2r
