// The paper's Table 1 (data/paper/table1.csv in the repository, compiled into the program) as rows carrying
// results.json's row ids, so a measured row finds the paper's figure by id.
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

// Where the table comes from: the XRD_PAPER_TABLE environment variable (a CSV file) when set, else the copy of
// data/paper/table1.csv compiled into the program ("data/paper/table1.csv (compiled in)").
std::string paper_table_source();

// The 12 rows in the paper's order, from paper_table_source(). Throws xrd::Error naming the file (and line) when
// it is missing or malformed.
std::vector<PaperRow> load_paper_table1();
// The same from a CSV file (strategy,readers,integrator,source,median_fps,mad_fps).
std::vector<PaperRow> load_paper_table1(const std::filesystem::path& csv);
// The same from CSV text; `name` names it in errors.
std::vector<PaperRow> parse_paper_table1(const std::string& text, const std::string& name);

// The row with that id, or nullptr.
const PaperRow* find_paper_row(const std::vector<PaperRow>& rows, std::string_view id);

}  // namespace xrd::harness
