#include "core/clock.hpp"

namespace h2r {

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

} // namespace h2r
