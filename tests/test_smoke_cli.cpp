// The xrdbench binary starts, lists its commands and rejects unknown ones.
#include <catch2/catch.hpp>

#include "tests/test_support.hpp"

TEST_CASE("xrdbench --help lists commands and exits 0") {
  auto r = xrd::test::run_xrdbench("--help");
  CHECK(r.status == 0);
  CHECK(r.output.find("Usage: xrdbench") != std::string::npos);
}

TEST_CASE("xrdbench rejects an unknown command with status 2") {
  auto r = xrd::test::run_xrdbench("no-such-command");
  CHECK(r.status == 2);
  CHECK(r.output.find("unknown command 'no-such-command'") != std::string::npos);
}
