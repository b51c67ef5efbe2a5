#include "zoom/call_fence.hpp"

namespace h2r {
namespace {

// At most this many calls are kept per scope (one event's work sends a handful).
constexpr std::size_t k_max_sent = 64;

thread_local CallFenceScope* t_scope = nullptr;

} // namespace

CallFenceScope::CallFenceScope(CallFence fence) : m_fence(std::move(fence)), m_outer(t_scope) { t_scope = this; }

CallFenceScope::~CallFenceScope() { t_scope = m_outer; }

Result<void> check_call_fence(std::string_view call, std::string_view at) {
  if (t_scope == nullptr || !t_scope->m_fence) return {};
  auto proof = t_scope->m_fence();
  if (proof && !call.empty() && t_scope->m_sent.size() < k_max_sent)
    t_scope->m_sent.push_back(std::string(call) + (at.empty() ? "" : " at " + std::string(at)));
  return proof;
}

} // namespace h2r
