// SqliteStore: claiming the due events (the queue itself and the fenced writes live in
// sqlite_store_events.cpp).
#include "store/sqlite/sqlite_store_impl.hpp"

#include <sqlite3.h>

#include <array>
#include <unordered_map>

namespace h2r {

Result<std::vector<EventRow>> SqliteStore::claim_due_events(const ClaimRequest& request) {
  return locked("claim the due events", [&]() H2R_REQUIRES(m_mutex) -> Result<std::vector<EventRow>> {
    if (request.owner.empty()) return fail(ErrorKind::invalid, "a claim needs an owner");
    if (request.lease_ms <= 0) return fail(ErrorKind::invalid, "a claim needs a lease longer than 0 ms");
    // One IMMEDIATE transaction: no other process can claim or change these rows between read and claim.
    auto tx = H2R_TRY(sqlite::Transaction::begin(*m_db));
    auto rows = H2R_TRY(select_due(request.now_ms, request.limit, true));
    if (rows.empty()) {
      H2R_TRY(tx.commit());
      return rows;
    }
    // The claims whose lease has run out, read before this claim changes any (events_claimed holds only
    // the claimed rows, so this is an empty scan when no other claim is in flight).
    std::vector<std::pair<long long, std::string>> expired;
    {
      auto q = H2R_TRY(m_db->query("SELECT id, employee_id FROM events INDEXED BY events_claimed "
                                   "WHERE claim_token IS NOT NULL AND lease_until_ms <= ?1"));
      q.bind_int(1, request.now_ms);
      while (H2R_TRY(q.step())) expired.emplace_back(q.int_at(0), q.text_at(1));
    }
    // A row still claimed here had its lease run out: this claim takes it over (a rescue, counted). The
    // row was read in this transaction, so its rescue count and previous owner are known here; the token
    // is 16 random bytes in hex, as before.
    auto q = H2R_TRY(m_db->query("UPDATE events SET claim_owner = ?2, claim_token = ?5, claimed_at_ms = ?3, "
                                 "lease_until_ms = ?4, rescues = ?6 WHERE id = ?1"));
    const long long lease_until = request.now_ms + request.lease_ms;
    for (auto& row : rows) {
      const bool rescue = !row.claim_token.empty();
      row.rescued_from = rescue ? row.claim_owner : "";
      row.claim_token = random_token();
      if (rescue) ++row.rescues;
      row.claim_owner = request.owner;
      row.claimed_at_ms = request.now_ms;
      row.lease_until_ms = lease_until;
      q.bind_int(1, row.id).bind_text(2, row.claim_owner).bind_int(3, request.now_ms).bind_int(4, lease_until);
      q.bind_text(5, row.claim_token).bind_int(6, row.rescues);
      H2R_TRY(q.run());
      if (m_db->changes() != 1) return fail(ErrorKind::permanent, fmt::format("event {} vanished while claimed", row.id));
      q.reset();
    }
    // The employee's other claims whose lease ran out (an event claimed before an earlier-dated one
    // arrived) end here: their owner's late outcome is refused, never applied out of order. Only the
    // expired claims read above can be such (the rows just claimed hold a running lease now).
    if (!expired.empty()) H2R_TRY(drop_expired_claims(expired, rows, request.now_ms));
    H2R_TRY(tx.commit());
    return rows;
  });
}

Result<void> SqliteStore::drop_expired_claims(const std::vector<std::pair<long long, std::string>>& expired,
                                              const std::vector<EventRow>& claimed, long long now_ms) {
  std::unordered_map<std::string_view, long long> claimed_of;   // employee -> the event claimed now
  for (const auto& row : claimed) claimed_of.emplace(row.employee_id, row.id);
  auto drop = H2R_TRY(m_db->query("UPDATE events SET claim_owner = NULL, claim_token = NULL, lease_until_ms = 0 WHERE id = ?1 "
                                  "AND claim_token IS NOT NULL AND lease_until_ms <= ?2"));
  for (const auto& [id, employee_id] : expired) {
    auto found = claimed_of.find(employee_id);
    if (found == claimed_of.end() || found->second == id) continue;
    H2R_TRY(drop.bind_int(1, id).bind_int(2, now_ms).run());
    drop.reset();
  }
  return {};
}

std::string SqliteStore::random_token() {
  std::array<unsigned char, 16> bytes{};
  sqlite3_randomness(static_cast<int>(bytes.size()), bytes.data());
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string token(2 * bytes.size(), '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    token[2 * i] = k_hex[bytes[i] >> 4];
    token[2 * i + 1] = k_hex[bytes[i] & 0xf];
  }
  return token;
}

} // namespace h2r
