#include "support/test_paths.hpp"

// Set by tests/CMakeLists.txt on this file only (PRIVATE): absolute paths, different in each clone.
namespace h2r::test {

const char* h2rd_path() { return H2R_H2RD_PATH; }
const char* zoom_sim_path() { return H2R_ZOOM_SIM_PATH; }
const char* source_dir() { return H2R_SOURCE_DIR; }

} // namespace h2r::test
