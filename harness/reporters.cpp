#include "harness/reporters.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "harness/environment.hpp"
#include "harness/progress.hpp"
#include "harness/runner_cli.hpp"
#include "harness/table1.hpp"
#include "kernels/error.hpp"

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

namespace {

// Written to PATH.tmp, then renamed over PATH: a reader never sees half a file.
void write_text(const std::filesystem::path& p, const std::string& text) {
  const auto tmp = p.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << text;
    f.flush();
    if (!f) {
      const int e = errno;
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw xrd::Error(tmp, "", std::string("cannot write: ") + (e ? std::strerror(e) : "disk full?"));
    }
  }
  if (::rename(tmp.c_str(), p.c_str()) != 0) {
    const int e = errno;
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw xrd::Error(p.string(), "rename", "cannot move " + tmp + " into place: " + std::strerror(e));
  }
}

}  // namespace

void Table1Reporter::write() { write_text(path_, table1_markdown(json_.written(), notes_)); }

}  // namespace xrd::harness
