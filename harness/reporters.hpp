// Reporters: what is said about the rows, kept apart from the runner that measures them (as Google Benchmark keeps
// its ConsoleReporter / JSONReporter apart from its runner). The runner hands each finished row, and its progress
// notes ("reference: ..."), to one Reporter; the commands compose the ones they want:
//   ConsoleReporter     the row line on stderr ("pool-2-gpu-MEM   812.3 fps (MAD 4.1)  valid", FAILED/INVALID with
//                       the first reason, up to 3 failed frames, noise warnings), above the progress line;
//   ResultsJsonReporter OUT/results.json rewritten (atomically) after every row, with the rows an earlier run left
//                       (Bench::save), so that Ctrl-C or a crash keeps the finished rows;
//   Table1Reporter      OUT/table1.md after every row, from what ResultsJsonReporter last wrote;
//   CsvReporter         --csv FILE after every row, the same bytes as `xrdbench report --export-csv` of results.json.
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "harness/results.hpp"

namespace xrd::harness {

class Progress;
struct Bench;

class Reporter {
 public:
  virtual ~Reporter() = default;
  // A line about the work in progress (the reference run starting, ...).
  virtual void note(const std::string& line) { (void)line; }
  // One finished row, valid or not (never an interrupted one).
  virtual void report_row(const ResultRow& row) = 0;
  // After the last row, or after an interruption (the command has set results.interrupted).
  virtual void finalize() {}
};

// Every call to each reporter, in the order they were added.
class Reporters : public Reporter {
 public:
  void add(Reporter* r) { parts_.push_back(r); }
  bool empty() const { return parts_.empty(); }
  void note(const std::string& line) override;
  void report_row(const ResultRow& row) override;
  void finalize() override;

 private:
  std::vector<Reporter*> parts_;
};

class ConsoleReporter : public Reporter {
 public:
  // progress: lines go above it when it is shown (Progress::note); null: plain lines on stderr.
  explicit ConsoleReporter(Progress* progress) : progress_(progress) {}
  void note(const std::string& line) override;
  void report_row(const ResultRow& row) override;

 private:
  void say(const std::string& text);
  Progress* progress_;
};

class ResultsJsonReporter : public Reporter {
 public:
  // before_save: called before each write (the command updates the header: settings.drop_caches, ...).
  explicit ResultsJsonReporter(Bench& bench, std::function<void(ResultsFile&)> before_save = {})
      : bench_(bench), before_save_(std::move(before_save)) {}
  void report_row(const ResultRow& row) override;
  void finalize() override { save(); }
  // The file as last written: the earlier rows with this invocation's.
  const ResultsFile& written() const { return written_; }
  const ResultsFile& save();
  const Bench& bench() const { return bench_; }

 private:
  Bench& bench_;
  std::function<void(ResultsFile&)> before_save_;
  ResultsFile written_;
};

// A file made from the results as ResultsJsonReporter last wrote them (the earlier rows included), rewritten
// atomically after every row and at the end, so that an interruption keeps the rows finished. An empty path: none.
class ResultsFileReporter : public Reporter {
 public:
  ResultsFileReporter(std::filesystem::path path, const ResultsJsonReporter& json)
      : path_(std::move(path)), json_(json) {}
  void report_row(const ResultRow&) override { write(); }
  void finalize() override { write(); }
  const std::filesystem::path& path() const { return path_; }

 protected:
  // The file's whole content for these results.
  virtual std::string render(const ResultsFile& results) const = 0;

 private:
  void write();
  std::filesystem::path path_;
  const ResultsJsonReporter& json_;
};

class Table1Reporter : public ResultsFileReporter {
 public:
  // notes: the lines under the table (the cold read bound); json: where the rows are read from.
  Table1Reporter(std::filesystem::path path, const ResultsJsonReporter& json, const std::vector<std::string>& notes)
      : ResultsFileReporter(std::move(path), json), notes_(notes) {}

 protected:
  std::string render(const ResultsFile& results) const override;

 private:
  const std::vector<std::string>& notes_;
};

// --csv FILE (run, table1): every row of results.json as CSV, byte for byte what `xrdbench report
// OUT/results.json --export-csv FILE` writes from that file (harness/results_csv.hpp), its results_file column being
// OUT/results.json as --out spelled it.
class CsvReporter : public ResultsFileReporter {
 public:
  CsvReporter(std::filesystem::path path, const ResultsJsonReporter& json);

 protected:
  std::string render(const ResultsFile& results) const override;

 private:
  std::string results_file_;
};

}  // namespace xrd::harness
