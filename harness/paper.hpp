// The paper's Table 1 (shared/paper/table1.csv) as rows carrying results.json's row ids, so a measured row finds
// the paper's figure by id.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xrd::harness {

struct PaperRow {
  std::string id;               // "sequential-cpu-SSD", "pool-2-gpu-MEM", "opencl-gpu-MEM", ...
  std::string strategy;         // registry name: "sequential", "pool", "opencl"
  std::optional<int> readers;   // pool rows only
  std::string integrator;       // "cpu" | "gpu"
  std::string source;           // "SSD" | "MEM"
  std::string label;            // "Sequential CPU/CPU, SSD", "Pool of 2 readers, GPU, MEM", ...
  double median_fps = 0, mad_fps = 0;
};

// <shared>/paper/table1.csv, where <shared> is the XRD_SHARED_DIR environment variable when set, else the
// XRD_SHARED_DIR compile definition.
std::filesystem::path paper_table_path();

// The 12 rows in the paper's order. Throws xrd::Error naming the file (and line) when it is missing or malformed.
std::vector<PaperRow> load_paper_table1(const std::filesystem::path& csv = paper_table_path());

// The row with that id, or nullptr.
const PaperRow* find_paper_row(const std::vector<PaperRow>& rows, std::string_view id);

}  // namespace xrd::harness
