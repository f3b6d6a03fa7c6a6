#include "harness/reporters.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "harness/environment.hpp"
#include "harness/progress.hpp"
#include "harness/results_csv.hpp"
#include "harness/runner_cli.hpp"
#include "harness/table1.hpp"
#include "base/atomic_file.hpp"
#include "base/error.hpp"

namespace xrd::harness {

void Reporters::note(const std::string& line) {
  for (auto* r : parts_) r->note(line);
}
void Reporters::report_row(const ResultRow& row) {
  for (auto* r : parts_) r->report_row(row);
}
void Reporters::finalize() {
  for (auto* r : parts_) r->finalize();
}

void ConsoleReporter::say(const std::string& text) {
  // Row lines go above the progress line (Progress::note), never into it.
  if (progress_ && progress_->active())
    progress_->note(text);
  else
    std::fprintf(stderr, "%s\n", text.c_str());
}

void ConsoleReporter::note(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

void ConsoleReporter::report_row(const ResultRow& row) {
  // "%-28s" of the row lines.
  const std::string id = row.id.size() >= 28 ? row.id : row.id + std::string(28 - row.id.size(), ' ');
  const bool mpi = row.mpi.is_object() && row.mpi.contains("ranks");
  if (row.fps.runs.empty()) {  // failed before any timed run
    say(id + " FAILED: " + (row.invalid_reasons.empty() ? std::string() : row.invalid_reasons.front()));
    return;
  }
  char text[96];
  std::snprintf(text, sizeof text, " %9.1f fps (MAD %.1f)", row.fps.median, row.fps.mad);
  std::string line = id + text;
  if (mpi) line += " on " + std::to_string(row.mpi["ranks"].get<int>()) + " ranks";
  line += "  ";
  say(line + (row.valid ? "valid" : "INVALID: " + row.invalid_reasons.front()));
  for (size_t i = 0; i < row.errors.size() && i < 3; ++i)
    say("    failed: " + row.errors[i].file + ": " + row.errors[i].reason);
  if (mpi) return;  // the ranks' load averages are not one machine's
  for (auto& w : noise_warnings(row, static_cast<int>(std::thread::hardware_concurrency())))
    say("    warning: " + w + ": the figure may not be repeatable");
}

void ResultsJsonReporter::report_row(const ResultRow& row) {
  bench_.results.rows.push_back(row);
  save();
}

const ResultsFile& ResultsJsonReporter::save() {
  if (before_save_) before_save_(bench_.results);
  written_ = bench_.save();
  return written_;
}

void ResultsFileReporter::write() {
  if (!path_.empty()) xrd::write_file_atomic(path_, render(json_.written()));
}

std::string Table1Reporter::render(const ResultsFile& results) const { return table1_markdown(results, notes_); }

CsvReporter::CsvReporter(std::filesystem::path path, const ResultsJsonReporter& json)
    : ResultsFileReporter(std::move(path), json), results_file_((json.bench().out_dir / "results.json").string()) {}

std::string CsvReporter::render(const ResultsFile& results) const {
  // As report reads it: the JSON text results.json holds, parsed back (a double the writer turns to null is null).
  return results_csv(nlohmann::json::parse(to_json(results).dump()), results_file_);
}

}  // namespace xrd::harness
