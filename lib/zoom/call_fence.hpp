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
#include <string>
#include <vector>

namespace h2r {

using CallFence = std::function<Result<void>()>;

// Sets `fence` for the calling fiber (or thread, off fibers) for the scope's lifetime (scopes nest;
// the outer one comes back).
// It also keeps the calls that passed it (sent()), so that an outcome refused because an operator
// decided meanwhile can still say truthfully what had already been sent.
class CallFenceScope {
public:
  explicit CallFenceScope(CallFence fence);
  ~CallFenceScope();
  CallFenceScope(const CallFenceScope&) = delete;
  CallFenceScope& operator=(const CallFenceScope&) = delete;

  // "PATCH /Users/abc (deactivate) at 2026-12-01T12:01:03.412Z", one per call that passed the fence.
  const std::vector<std::string>& sent() const { return m_sent; }

private:
  friend Result<void> check_call_fence(std::string_view call, std::string_view at);
  CallFence m_fence;
  CallFenceScope* m_outer;
  std::vector<std::string> m_sent;
};

// The calling fiber's (or thread's) fence's answer for `call` (method, path and what, for people), about to be sent
// at `at` (UTC with milliseconds); ok when the thread has none. A call it lets through is kept in the
// scope's sent().
Result<void> check_call_fence(std::string_view call = {}, std::string_view at = {});

} // namespace h2r
