// Table 1: the paper's 12 rows (sequential cold/hot x CPU/GPU integration, pool of 1..24 readers, OpenCL) plus our
// own strategies, and the markdown table that puts our median/MAD beside the paper's with the ratio.
#pragma once
#include <string>
#include <vector>

#include "harness/paper.hpp"
#include "harness/results.hpp"
#include "harness/runner.hpp"

namespace xrd::harness {

struct Table1Row {
  RowSpec spec;
  const PaperRow* paper = nullptr;  // the paper's row, or null for ours
};

// The paper's rows in its order, then ours (the best CPU designs hot and cold, the batched device chain).
// threads: worker threads for the parallel strategies (0 = every core).
std::vector<Table1Row> table1_rows(const std::vector<PaperRow>& paper, int threads = 0);

// OUTDIR/table1.md: machine and dataset summary, one line per row (ours: median, MAD, every run; the paper's median
// and MAD; ours/paper), validity flags and their reasons, the real-time (250 Hz) verdict, and notes (GPU rows that
// ran on an OpenCL CPU device, interrupted runs), then `notes` (one paragraph each, e.g. the disk's read bound).
std::string table1_markdown(const ResultsFile& f, const std::vector<std::string>& notes = {});

}  // namespace xrd::harness
