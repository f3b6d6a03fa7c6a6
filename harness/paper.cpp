// Loads the paper's Table 1 CSV and gives each row its results.json id.
#include "harness/paper.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "generated/paper_table1.hpp"
#include "harness/results.hpp"
#include "base/error.hpp"

namespace xrd::harness {
namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

double number(const std::string& text, const std::string& file, size_t line, const char* column) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error(file, "line " + std::to_string(line) + ", column " + column,
              "'" + text + "' is not a number (expected frames per second)");
}

}  // namespace

std::string paper_table_source() {
  const char* env = std::getenv("XRD_PAPER_TABLE");
  return env && *env ? std::string(env) : std::string("data/paper/table1.csv (compiled in)");
}

std::vector<PaperRow> load_paper_table1() {
  const char* env = std::getenv("XRD_PAPER_TABLE");
  if (env && *env) return load_paper_table1(std::filesystem::path(env));
  return parse_paper_table1(generated::paper_table1_csv, paper_table_source());
}

std::vector<PaperRow> load_paper_table1(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  if (!in) throw Error(csv.string(), "", "cannot read the paper's Table 1 (expected a CSV file: " +
                                          std::string("strategy,readers,integrator,source,median_fps,mad_fps)"));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_paper_table1(text.str(), csv.string());
}

std::vector<PaperRow> parse_paper_table1(const std::string& csv_text, const std::string& file) {
  std::istringstream in(csv_text);
  std::vector<PaperRow> rows;
  std::string text;
  size_t line = 0;
  bool header_seen = false;
  while (std::getline(in, text)) {
    ++line;
    text = trim(text);
    if (text.empty() || text[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(text);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(trim(cell));
    const std::string where = "line " + std::to_string(line);
    if (!header_seen) {
      if (f.size() != 6 || lower(f[0]) != "strategy" || lower(f[4]) != "median_fps")
        throw Error(file, where, "expected the header 'strategy,readers,integrator,source,median_fps,mad_fps'");
      header_seen = true;
      continue;
    }
    if (f.size() != 6) throw Error(file, where, "expected 6 comma-separated fields, found " + std::to_string(f.size()));
    PaperRow r;
    r.strategy = lower(f[0]);
    r.integrator = lower(f[2]);
    r.source = f[3];
    if (r.strategy != "sequential" && r.strategy != "pool" && r.strategy != "opencl")
      throw Error(file, where, "unknown strategy '" + f[0] + "' (expected Sequential, Pool or OpenCL)");
    if (r.integrator != "cpu" && r.integrator != "gpu")
      throw Error(file, where, "unknown integrator '" + f[2] + "' (expected CPU or GPU)");
    if (r.source != "SSD" && r.source != "MEM")
      throw Error(file, where, "unknown source '" + f[3] + "' (expected SSD or MEM)");
    if (r.strategy == "pool") {
      const double n = number(f[1], file, line, "readers");
      if (n < 1 || n != static_cast<int>(n)) throw Error(file, where, "readers must be a positive integer");
      r.readers = static_cast<int>(n);
    }
    r.median_fps = number(f[4], file, line, "median_fps");
    r.mad_fps = number(f[5], file, line, "mad_fps");
    r.id = row_id(r.strategy, r.readers, r.integrator, r.source);
    const std::string where_from = r.source == "SSD" ? "SSD (cold)" : "MEM (hot)";
    if (r.strategy == "sequential")
      r.label = "Sequential CPU/" + f[2] + ", " + where_from;
    else if (r.strategy == "pool")
      r.label = "Pool of " + std::to_string(*r.readers) + " readers, " + f[2] + ", " + where_from;
    else
      r.label = "OpenCL decode + integrate, " + where_from;
    rows.push_back(std::move(r));
  }
  if (rows.empty()) throw Error(file, "", "no rows (expected the paper's 12)");
  return rows;
}

const PaperRow* find_paper_row(const std::vector<PaperRow>& rows, std::string_view id) {
  for (auto& r : rows)
    if (r.id == id) return &r;
  return nullptr;
}

}  // namespace xrd::harness
