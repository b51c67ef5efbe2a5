// Where the test binary finds the programs it starts and the repository's own files. The paths are
// absolute and differ from one checkout to the next, so they live in test_paths.cpp alone: every other
// test file compiles to the same command line in any clone and reuses the compiler cache.
#pragma once

namespace h2r::test {

const char* h2rd_path();      // the h2rd built beside this test binary
const char* zoom_sim_path();  // the zoom-sim stand-in (tests/zoom-sim)
const char* source_dir();     // the repository's root (config/ examples, fuzz corpora)

} // namespace h2r::test
