// CallFence: the proof a SCIM call that changes something at Zoom (POST, PUT, PATCH, DELETE) must pass
// just before it is sent. The engine sets one on the thread that works an event (CallFenceScope): it
// asks the store whether the event is still claimed by this daemon with the same token, so that an
// operator's reject/approve/retry, or another daemon's rescue after this one froze past its lease,
// stops the calls this daemon has not yet sent (issue 25: "fencing at the call"). ScimClient asks the
// fence after its pacing wait and its token, the last step before the request leaves; a refused call
// is not sent and comes back as a transient error with reason `fenced`. Reads (GET) are not fenced.
// A thread with no fence (the CLI, reconcile, connection test) calls freely.
//
// What it assumes (docs/operations.md "Fencing"): the window between the proof and the send is the
// time to build one request (microseconds). A daemon frozen inside that window can still send that
// one call when it wakes; one frozen anywhere else sends nothing for an event it no longer owns.
#pragma once

#include "core/error.hpp"

#include <functional>

namespace h2r {

using CallFence = std::function<Result<void>()>;

// Sets `fence` for the calling thread for the scope's lifetime (scopes nest; the outer one comes back).
class CallFenceScope {
public:
  explicit CallFenceScope(CallFence fence);
  ~CallFenceScope();
  CallFenceScope(const CallFenceScope&) = delete;
  CallFenceScope& operator=(const CallFenceScope&) = delete;

private:
  CallFence m_fence;
  const CallFence* m_outer;
};

// The calling thread's fence's answer; ok when the thread has none.
Result<void> check_call_fence();

} // namespace h2r
