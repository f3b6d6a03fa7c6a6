// PONI files, read as pyFAI 0.21 reads them (pyFAI/io/ponifile.py): "Key: value" lines, keys
// case-insensitive,
// '#' comments, later values of a key replace earlier ones (so the last calibration block of a file counts).
#include "datasets/poni.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "kernels/error.hpp"

namespace xrd::poni {

namespace {

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Value {
  std::string text;
  int line = 0;
};

double number(const std::map<std::string, Value>& kv, const std::string& key, const std::string& path) {
  const Value& v = kv.at(key);
  double d = 0;
  const char* b = v.text.data();
  const char* e = b + v.text.size();
  if (b != e && *b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, d);
  if (ec != std::errc() || ptr != e || !std::isfinite(d))
    throw Error(path, "line " + std::to_string(v.line), key + ": expected a number, got '" + v.text + "'");
  return d;
}

// Pixel sizes of detectors named without a Detector_config (pyFAI's detector classes).
std::optional<double> known_pixel_size(const std::string& detector) {
  const std::string d = lower(detector);
  if (d.find("pilatus") != std::string::npos) return 172e-6;
  if (d.find("eiger") != std::string::npos) return 75e-6;
  return std::nullopt;
}

}  // namespace

integ::Geometry parse(std::string_view text, const std::string& path) {
  std::map<std::string, Value> kv;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // pyFAI ignores such lines too
    kv[lower(trim(line.substr(0, colon)))] = Value{trim(line.substr(colon + 1)), line_no};
  }

  integ::Geometry g;
  auto has = [&](const char* k) { return kv.count(k) != 0; };
  int version = 1;
  if (has("poni_version")) {
    const double v = number(kv, "poni_version", path);
    if (v != 1 && v != 2)
      throw Error(path, "line " + std::to_string(kv["poni_version"].line),
                  "poni_version " + kv["poni_version"].text + " is not supported (expected 1 or 2)");
    version = static_cast<int>(v);
  }
  if (has("dist") && !has("distance")) kv["distance"] = kv["dist"];
  for (const char* k : {"distance", "poni1", "poni2"})
    if (!has(k))
      throw Error(path, "", std::string("no '") + k + "' line (a PONI file needs Distance, Poni1, Poni2)");
  g.dist = number(kv, "distance", path);
  g.poni1 = number(kv, "poni1", path);
  g.poni2 = number(kv, "poni2", path);
  if (has("rot1")) g.rot1 = number(kv, "rot1", path);
  if (has("rot2")) g.rot2 = number(kv, "rot2", path);
  if (has("rot3")) g.rot3 = number(kv, "rot3", path);
  if (has("wavelength")) g.wavelength = number(kv, "wavelength", path);
  if (!(g.dist > 0))
    throw Error(path, "line " + std::to_string(kv["distance"].line), "Distance must be positive");

  g.detector = has("detector") ? kv["detector"].text : "Detector";
  std::optional<double> p1, p2;
  if (version == 2 && has("detector_config")) {
    const Value& v = kv["detector_config"];
    nlohmann::json cfg;
    try {
      cfg = nlohmann::json::parse(v.text);
    } catch (const std::exception& e) {
      throw Error(path, "line " + std::to_string(v.line),
                  std::string("Detector_config: invalid JSON: ") + e.what());
    }
    auto get = [&](const char* k) -> std::optional<double> {
      if (!cfg.is_object() || !cfg.contains(k) || cfg[k].is_null()) return std::nullopt;
      if (!cfg[k].is_number())
        throw Error(path, "line " + std::to_string(v.line),
                    std::string("Detector_config: ") + k + " is not a number");
      return cfg[k].get<double>();
    };
    p1 = get("pixel1");
    p2 = get("pixel2");
  }
  if (has("pixelsize1")) p1 = number(kv, "pixelsize1", path);
  if (has("pixelsize2")) p2 = number(kv, "pixelsize2", path);
  const auto known = known_pixel_size(g.detector);
  if (!p1) p1 = known;
  if (!p2) p2 = known;
  if (!p1 || !p2)
    throw Error(path, "",
                "no pixel size: expected Detector_config {\"pixel1\": ..., \"pixel2\": ...} (version 2), "
                "PixelSize1/PixelSize2 (version 1) or a known detector name (Pilatus, Eiger)");
  if (!(*p1 > 0) || !(*p2 > 0)) throw Error(path, "", "pixel sizes must be positive");
  g.pixel1 = *p1;
  g.pixel2 = *p2;
  return g;
}

integ::Geometry read(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw Error(p.string(), "", "cannot open the PONI file");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse(ss.str(), p.string());
}

std::string format(const integ::Geometry& g) {
  auto num = [](double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return std::string(buf);
  };
  std::string s = "# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis\n";
  s += "poni_version: 2\n";
  s += "Detector: " + g.detector + "\n";
  s += "Detector_config: {\"pixel1\": " + num(g.pixel1) + ", \"pixel2\": " + num(g.pixel2) +
       ", \"max_shape\": null}\n";
  s += "Distance: " + num(g.dist) + "\n";
  s += "Poni1: " + num(g.poni1) + "\n";
  s += "Poni2: " + num(g.poni2) + "\n";
  s += "Rot1: " + num(g.rot1) + "\n";
  s += "Rot2: " + num(g.rot2) + "\n";
  s += "Rot3: " + num(g.rot3) + "\n";
  if (g.wavelength > 0) s += "Wavelength: " + num(g.wavelength) + "\n";
  return s;
}

}  // namespace xrd::poni
