// The rows of a results file as CSV: the same bytes `xrdbench report RESULTS.json --export-csv FILE` writes
// (reports/report.py write_csv: its columns, Python's csv module (excel dialect: CRLF lines, a field quoted only when it
// holds a comma, a quote or a line break), numbers as Python's repr of a float, the same fps checks and noise
// warnings as reports/xrdresults.py). CsvReporter (reporters.hpp) writes it after every row of run / table1 --csv.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace xrd::harness {

// A double as Python's repr(float) writes it: the shortest digits that read back to the same double, positional
// with at least one decimal ("5.0", "0.0001", "123.25") for exponents -4 to 15, else "1e-05", "1.5e+16"; "nan",
// "inf", "-inf".
std::string python_float_repr(double v);

// `results`: a results.json document as read back (numbers as JSON numbers); `results_file`: the path as it was
// given to report (the CSV's first column).
std::string results_csv(const nlohmann::json& results, const std::string& results_file);

}  // namespace xrd::harness
