#include "zoom/call_fence.hpp"

#include "core/fiber.hpp"

namespace h2r {
namespace {

// At most this many calls are kept per scope (one event's work sends a handful).
constexpr std::size_t k_max_sent = 64;

// The scope of the work running here: the fiber's own (the engine's workers run on fibers, several on
// one thread, core/fiber.hpp), else the thread's.
CallFenceScope* current_scope() { return static_cast<CallFenceScope*>(fiber::local(fiber::Slot::call_fence)); }
void set_current_scope(CallFenceScope* scope) { fiber::local(fiber::Slot::call_fence) = scope; }

} // namespace

CallFenceScope::CallFenceScope(CallFence fence) : m_fence(std::move(fence)), m_outer(current_scope()) {
  set_current_scope(this);
}

CallFenceScope::~CallFenceScope() { set_current_scope(m_outer); }

Result<void> check_call_fence(std::string_view call, std::string_view at) {
  CallFenceScope* scope = current_scope();
  if (scope == nullptr || !scope->m_fence) return {};
  auto proof = scope->m_fence();
  if (proof && !call.empty() && scope->m_sent.size() < k_max_sent)
    scope->m_sent.push_back(std::string(call) + (at.empty() ? "" : " at " + std::string(at)));
  return proof;
}

} // namespace h2r
