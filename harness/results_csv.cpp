#include "harness/results_csv.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

namespace xrd::harness {

using nlohmann::json;

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // The shortest round-trip digits, as d.ddde±X, then laid out by Python's rule (float_repr_style 'short', mode 'r').
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  const std::string sci(buf, r.ptr);
  const size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  if (digits.size() > 1) digits.erase(1, 1);  // "1.25" -> "125"
  const int exp10 = std::stoi(sci.substr(e + 1));
  const int decpt = exp10 + 1;  // digits are 0.DIGITS x 10^decpt
  const int n = static_cast<int>(digits.size());
  std::string out = std::signbit(v) ? "-" : "";
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0)
      out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    else if (decpt < n)
      out += digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(static_cast<size_t>(decpt));
    else
      out += digits + std::string(static_cast<size_t>(decpt - n), '0') + ".0";
  } else {
    out += digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    char ex[16];
    std::snprintf(ex, sizeof ex, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    out += ex;
  }
  return out;
}

namespace {

constexpr const char* kStages[] = {"read", "md5", "decode", "integrate", "write", "wait"};  // xrdresults.STAGES
constexpr double kNoiseMadRatio = 0.05;                                                     // NOISE_MAD_RATIO

bool is_number(const json& v) { return v.is_number(); }  // a JSON number (true/false are not)
bool is_int(const json& v) { return v.is_number_integer(); }

// xrdresults._finite: the value as a double when it is a finite number, else nothing.
std::optional<double> finite(const json& v) {
  if (!is_number(v)) return std::nullopt;
  const double d = v.get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}
std::optional<double> finite_at(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) ? finite(obj[key]) : std::nullopt;
}

// Python's repr of a JSON number as json.load made it (an int or a float).
std::string number_repr(const json& v) {
  if (v.is_number_integer()) return v.dump();
  return python_float_repr(v.get<double>());
}

// xrdresults._type_names of a value's type.
std::string type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "true/false";
    case json::value_t::null: return "null";
    default: return "a number";
  }
}
// xrdresults._number_text.
std::string number_text(const json& v) {
  if (v.is_number_float() && std::isnan(v.get<double>())) return "NaN";
  if (v.is_number_float() && std::isinf(v.get<double>())) return v.get<double>() > 0 ? "Infinity" : "-Infinity";
  if (is_number(v)) return number_repr(v);
  return type_name(v);
}

// xrdresults.fps_problem: why the fps object cannot be used, "" when it can.
std::string fps_problem(const json& fps) {
  const json med = fps.value("median", json(nullptr));
  if (med.is_null()) return "no fps: the row did not run";
  const auto f = finite(med);
  if (!f) return "fps.median is " + number_text(med) + ", not a finite number";
  if (*f < 0) return "fps.median is negative (" + number_text(med) + ")";
  if (*f == 0) return "fps.median is 0: no frame was processed";
  const json mad = fps.contains("mad") ? fps["mad"] : json(0);
  if (!mad.is_null() && (!finite(mad) || *finite(mad) < 0))
    return "fps.mad is " + number_text(mad) + ", not a finite number >= 0";
  const json runs = fps.value("runs", json(nullptr));
  if (!runs.is_null() && !runs.is_array()) return "fps.runs is " + type_name(runs) + ", not an array";
  if (runs.is_array())
    for (size_t i = 0; i < runs.size(); ++i)
      if (!finite(runs[i]) || *finite(runs[i]) < 0)
        return "fps.runs[" + std::to_string(i) + "] is " + number_text(runs[i]) + ", not a finite number >= 0";
  return "";
}

std::string text_of(const json& obj, const char* key) {
  return obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : std::string();
}

// Python's str() of a JSON value json.load made (the reasons are strings in files we write).
std::string python_str(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_null()) return "None";
  if (is_number(v)) return number_repr(v);
  return v.dump();
}

// xrdresults._load_triplet's first value: the 1-minute load, when the triplet is three finite numbers >= 0.
std::optional<double> load_1min(const json& triplet) {
  if (!triplet.is_array() || triplet.size() != 3) return std::nullopt;
  for (const auto& x : triplet)
    if (!finite(x) || *finite(x) < 0) return std::nullopt;
  return *finite(triplet[0]);
}

std::string machine_label(const json& m) {
  if (m.contains("hostname") && m["hostname"].is_string() && !m["hostname"].get<std::string>().empty())
    return m["hostname"].get<std::string>();
  std::string cpu = text_of(m, "cpu_model");
  if (cpu.empty()) cpu = "unknown CPU";
  return cpu + " (" + (m.contains("cores") ? python_str(m["cores"]) : std::string("?")) + " cores)";
}

std::optional<long long> machine_cpus(const json& m) {
  for (const char* k : {"cpus_online", "cores"})
    if (m.contains(k) && is_int(m[k]) && m[k].get<long long>() > 0) return m[k].get<long long>();
  return std::nullopt;
}

std::string csv_num(std::optional<double> v) { return v ? python_float_repr(*v) : std::string(); }

// Python's csv.writer, excel dialect, QUOTE_MINIMAL.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::vector<std::string> row_fields(const json& j, const std::string& results_file, const std::string& label,
                                    const json& machine) {
  const std::string id = text_of(j, "id");
  const json fps = j.contains("fps") && j["fps"].is_object() ? j["fps"] : json::object();
  const std::string problem = fps_problem(fps);
  const bool ok = problem.empty();
  const bool bad_number = !ok && !fps.value("median", json(nullptr)).is_null() &&
                          problem.find("no frame was processed") == std::string::npos;
  std::optional<double> median, mad;
  std::vector<std::string> runs;
  if (ok) {
    median = finite(fps["median"]);
    const auto m = fps.contains("mad") ? finite(fps["mad"]) : std::nullopt;
    mad = m && *m != 0 ? *m : 0.0;
    if (fps.contains("runs") && fps["runs"].is_array())
      for (const auto& v : fps["runs"]) runs.push_back(python_float_repr(v.get<double>()));
  }
  const bool valid_in_file = j.value("valid", false);
  std::vector<std::string> reasons;
  if (j.contains("invalid_reasons") && j["invalid_reasons"].is_array())
    for (const auto& x : j["invalid_reasons"]) reasons.push_back(python_str(x));
  if (!ok && (valid_in_file || reasons.empty() || bad_number)) reasons.push_back(problem);
  const bool valid = valid_in_file && ok;
  std::optional<double> load_before, load_after;
  if (j.contains("load_average") && j["load_average"].is_object()) {
    const json& la = j["load_average"];
    if (la.contains("before")) load_before = load_1min(la["before"]);
    if (la.contains("after")) load_after = load_1min(la["after"]);
  }
  // xrdresults.noise_warnings.
  std::vector<std::string> noise;
  char text[200];
  if (median && *mad > kNoiseMadRatio * *median) {
    std::snprintf(text, sizeof text, "spread: MAD is %.1f%% of the median (> %g%%)", 100.0 * *mad / *median,
                  100 * kNoiseMadRatio);
    noise.push_back(text);
  }
  std::optional<double> load_max;
  for (const auto& l : {load_before, load_after})
    if (l && (!load_max || *l > *load_max)) load_max = *l;
  if (const auto cpus = machine_cpus(machine); load_max && cpus && *load_max > static_cast<double>(*cpus)) {
    std::snprintf(text, sizeof text, "machine busy: 1-minute load average %.2f on %lld CPUs", *load_max, *cpus);
    noise.push_back(text);
  }
  std::optional<double> paper_fps, paper_mad;
  if (j.contains("paper") && j["paper"].is_object()) {
    paper_fps = finite_at(j["paper"], "median_fps");
    paper_mad = finite_at(j["paper"], "mad_fps");
    if (paper_fps && *paper_fps <= 0) paper_fps.reset();
    if (paper_mad && *paper_mad < 0) paper_mad.reset();
  }
  auto int_or_empty = [&](const char* key) {
    return j.contains(key) && is_int(j[key]) ? j[key].dump() : std::string();
  };
  const std::string label_text = text_of(j, "label");
  std::vector<std::string> f = {
      results_file,
      label,
      id,
      text_of(j, "strategy"),
      label_text.empty() ? id : label_text,
      int_or_empty("readers"),
      text_of(j, "integrator"),
      text_of(j, "device"),
      j.value("device_is_cpu_opencl", json(false)) == json(true) ? "true" : "false",
      text_of(j, "source"),
      csv_num(median),
      csv_num(median ? mad : std::nullopt),
      join(runs, " "),
      int_or_empty("frames"),
      j.contains("failed_frames") && is_int(j["failed_frames"]) ? j["failed_frames"].dump() : "0",
      csv_num(j.contains("residency_before") ? finite(j["residency_before"]) : std::nullopt),
      j.value("validated", json(false)) == json(true) ? "true" : "false",
      csv_num(j.contains("max_rel_diff") ? finite(j["max_rel_diff"]) : std::nullopt),
      valid ? "true" : "false",
      join(reasons, " | "),
      join(noise, " | "),
      csv_num(load_before),
      csv_num(load_after),
      csv_num(paper_fps),
      csv_num(paper_mad),
  };
  const json stages = j.contains("stages_ms") && j["stages_ms"].is_object() ? j["stages_ms"] : json::object();
  for (const char* k : kStages) {
    const auto v = finite_at(stages, k);
    f.push_back(csv_num(v && *v >= 0 ? v : std::nullopt));
  }
  return f;
}

}  // namespace

std::string results_csv(const json& results, const std::string& results_file) {
  std::vector<std::string> header = {"results_file", "machine", "id", "strategy", "label", "readers", "integrator",
                                     "device", "device_is_cpu_opencl", "source", "fps_median", "fps_mad", "fps_runs",
                                     "frames", "failed_frames", "residency_before", "validated", "max_rel_diff",
                                     "valid", "invalid_reasons", "noise_warnings", "load_1min_before",
                                     "load_1min_after", "paper_fps", "paper_mad"};
  for (const char* k : kStages) header.push_back(std::string(k) + "_ms");
  auto line = [](const std::vector<std::string>& fields) {
    std::string out;
    for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + csv_field(fields[i]);
    return out + "\r\n";
  };
  std::string out = line(header);
  const json machine = results.contains("machine") && results["machine"].is_object() ? results["machine"]
                                                                                      : json::object();
  const std::string label = machine_label(machine);
  if (results.contains("rows") && results["rows"].is_array())
    for (const auto& row : results["rows"]) out += line(row_fields(row, results_file, label, machine));
  return out;
}

}  // namespace xrd::harness
