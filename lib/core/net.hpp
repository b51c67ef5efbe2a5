// Which hosts count as "this machine": the line between a local test set-up and the network.
#pragma once

#include <string_view>

namespace h2r {

// True for `localhost`, an IPv4 address in 127.0.0.0/8 and the IPv6 loopback ::1 (also written in
// brackets, "[::1]", with or without a ":port" after the bracket, and as ::ffff:127.x.y.z).
// False for everything else, names included: a name other than localhost may resolve anywhere.
bool is_loopback_host(std::string_view host);

} // namespace h2r
