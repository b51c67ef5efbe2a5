#include "zoom/call_fence.hpp"

namespace h2r {
namespace {

thread_local const CallFence* t_fence = nullptr;

} // namespace

CallFenceScope::CallFenceScope(CallFence fence) : m_fence(std::move(fence)), m_outer(t_fence) { t_fence = &m_fence; }

CallFenceScope::~CallFenceScope() { t_fence = m_outer; }

Result<void> check_call_fence() {
  if (t_fence == nullptr || !*t_fence) return {};
  return (*t_fence)();
}

} // namespace h2r
