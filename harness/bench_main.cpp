// xrdbench_micro's main: Google Benchmark's flags plus `--decoder NAME` (auto, avx512, avx2, scalar), the
// byte-offset kernel that decode() runs in every benchmark (the BM_decode_fast rows, the calibration's fast row).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/byte_offset.hpp"
#include "base/error.hpp"

int main(int argc, char** argv) {
  std::vector<char*> args;
  std::string decoder = "auto";
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strncmp(argv[i], "--decoder=", 10) == 0) {
      decoder = argv[i] + 10;
    } else if (i > 0 && std::strcmp(argv[i], "--decoder") == 0) {
      if (i + 1 == argc) {
        std::fprintf(stderr, "xrdbench_micro: --decoder needs a kernel name (auto, avx512, avx2, scalar)\n");
        return 2;
      }
      decoder = argv[++i];
    } else {
      args.push_back(argv[i]);
    }
  }
  try {
    xrd::byte_offset::use_decoder(decoder);
  } catch (const xrd::Error& e) {
    std::fprintf(stderr, "xrdbench_micro: %s\n", e.what());
    return 2;
  }
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);  // argv[argc], as the C runtime gives it
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  benchmark::AddCustomContext("decoder", xrd::byte_offset::fast_decoder_name());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
