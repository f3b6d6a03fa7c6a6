// PONI files, read as pyFAI reads them (pyFAI/io/ponifile.py, versions 1, 2 and 2.1): "Key: value" lines, keys
// case-insensitive, '#' comments, later values of a key replace earlier ones (so the last calibration block of a
// file counts).
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
#include <tuple>

#include "datasets/poni_detectors.hpp"
#include "base/error.hpp"

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

std::string where(const Value& v) { return "line " + std::to_string(v.line); }

// The JSON of a Detector_config line.
nlohmann::json detector_config(const Value& v, const std::string& path) {
  nlohmann::json cfg;
  try {
    cfg = nlohmann::json::parse(v.text);
  } catch (const std::exception& e) {
    throw Error(path, where(v), std::string("Detector_config: invalid JSON: ") + e.what());
  }
  if (!cfg.is_object())
    throw Error(path, where(v), "Detector_config: expected a JSON object {\"pixel1\": ..., \"pixel2\": ...}");
  return cfg;
}

std::optional<double> config_number(const nlohmann::json& cfg, const char* k, const Value& v,
                                    const std::string& path) {
  if (!cfg.contains(k) || cfg[k].is_null()) return std::nullopt;
  if (!cfg[k].is_number()) throw Error(path, where(v), std::string("Detector_config: ") + k + " is not a number");
  return cfg[k].get<double>();
}

// Detector_config keys and what xrdbench does with them; anything else is refused rather than ignored.
void check_config_keys(const nlohmann::json& cfg, bool generic, const Value& v, const std::string& path) {
  for (const auto& [key, value] : cfg.items()) {
    if (key == "orientation" || key == "max_shape") continue;
    if (generic && (key == "pixel1" || key == "pixel2")) continue;
    if (!generic && (key == "pixel1" || key == "pixel2" || key == "module_size")) continue;
    const bool null_ok = key == "splineFile" || key == "x_offset_file" || key == "y_offset_file" || key == "sensor";
    if (null_ok && value.is_null()) continue;
    if (null_ok)
      throw Error(path, where(v),
                  "Detector_config: " + key + " " + value.dump() +
                      " cannot be honoured (xrdbench has no distortion or parallax correction); remove it or "
                      "set it to null");
    throw Error(path, where(v),
                "Detector_config: key '" + key +
                    "' is not supported (expected pixel1, pixel2, max_shape, orientation; module_size, "
                    "splineFile/x_offset_file/y_offset_file/sensor null)");
  }
}

int orientation_of(const nlohmann::json& cfg, const Value& v, const std::string& path) {
  if (!cfg.contains("orientation") || cfg["orientation"].is_null()) return 3;
  const auto& o = cfg["orientation"];
  if (!o.is_number_integer() || o.get<long long>() < 0 || o.get<long long>() > 4)
    throw Error(path, where(v),
                "Detector_config: orientation " + o.dump() +
                    " is not one of pyFAI's 1 (top left), 2 (top right), 3 (bottom right), 4 (bottom left)");
  const int n = static_cast<int>(o.get<long long>());
  return n == 0 ? 3 : n;  // pyFAI treats 0 (unspecified) as its default, 3
}

// max_shape: [rows, columns] or null.
void read_max_shape(const nlohmann::json& cfg, integration::Geometry& g, const Value& v, const std::string& path) {
  if (!cfg.contains("max_shape") || cfg["max_shape"].is_null()) return;
  const auto& m = cfg["max_shape"];
  if (!m.is_array() || m.size() != 2 || !m[0].is_number_integer() || !m[1].is_number_integer() ||
      m[0].get<long long>() <= 0 || m[1].get<long long>() <= 0)
    throw Error(path, where(v), "Detector_config: max_shape " + m.dump() + " is not [rows, columns] or null");
  g.detector_height = static_cast<size_t>(m[0].get<long long>());
  g.detector_width = static_cast<size_t>(m[1].get<long long>());
}

}  // namespace

integration::Geometry parse(std::string_view text, const std::string& path) {
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

  integration::Geometry g;
  auto has = [&](const char* k) { return kv.count(k) != 0; };
  // Version: 1 (PixelSize1/2, SplineFile), 2 (Detector + Detector_config JSON), 2.1 (orientation in the
  // config). As pyFAI, a Detector_config raises the version to 2, and to 2.1 when it holds an orientation.
  double version = 1;
  if (has("poni_version")) {
    version = number(kv, "poni_version", path);
    if (version != 1 && version != 2 && std::abs(version - 2.1) > 1e-9)
      throw Error(path, where(kv["poni_version"]),
                  "poni_version " + kv["poni_version"].text + " is not supported (expected 1, 2 or 2.1)");
  }
  nlohmann::json cfg;
  if (has("detector_config")) {
    cfg = detector_config(kv["detector_config"], path);
    version = std::max(version, cfg.contains("orientation") ? 2.1 : 2.0);
  } else if (version >= 2) {
    throw Error(path, where(kv["poni_version"]),
                "poni_version " + kv["poni_version"].text +
                    " needs a Detector_config line (JSON, e.g. {\"pixel1\": 1.72e-4, \"pixel2\": 1.72e-4})");
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
  if (!(g.dist > 0)) throw Error(path, where(kv["distance"]), "Distance must be positive");
  if (has("wavelength") && !(g.wavelength > 0))
    throw Error(path, where(kv["wavelength"]), "Wavelength must be positive (metres), or the line left out");

  if (version >= 2 && !has("detector"))
    throw Error(path, "", "a version 2 PONI file needs a Detector line (pyFAI's detector name, or Detector)");
  g.detector = has("detector") ? kv["detector"].text : "Detector";
  const bool generic = lower(g.detector) == "detector";
  std::optional<DetectorSpec> spec;
  if (!generic) {
    spec = find_detector(g.detector);
    if (!spec)
      throw Error(path, where(kv["detector"]),
                  "Detector '" + g.detector + "' is not a detector xrdbench knows: expected one of pyFAI's names " +
                      known_detector_names() +
                      " (pyFAI's aliases such as \"Pilatus 2M\" too), or Detector with its pixel sizes");
    g.detector_height = spec->height;
    g.detector_width = spec->width;
  }

  std::optional<double> p1, p2;
  if (spec) p1 = spec->pixel1, p2 = spec->pixel2;
  if (version < 2) {
    // Version 1: PixelSize1/2 set a generic detector's pixels and, both given, override a named one's (pyFAI
    // builds the class with them).
    const bool s1 = has("pixelsize1"), s2 = has("pixelsize2");
    if (spec && s1 != s2)
      throw Error(path, where(kv[s1 ? "pixelsize1" : "pixelsize2"]),
                  "give both PixelSize1 and PixelSize2 for a named detector (pyFAI then uses both)");
    if (s1) p1 = number(kv, "pixelsize1", path);
    if (s2) p2 = number(kv, "pixelsize2", path);
    if (has("splinefile") && lower(kv["splinefile"].text) != "none")
      throw Error(path, where(kv["splinefile"]),
                  "SplineFile " + kv["splinefile"].text +
                      " cannot be honoured: xrdbench has no distortion correction (expected None)");
  } else {
    const Value& v = kv["detector_config"];
    check_config_keys(cfg, generic, v, path);
    const auto c1 = config_number(cfg, "pixel1", v, path), c2 = config_number(cfg, "pixel2", v, path);
    if (spec) {
      // pyFAI's named detectors enforce their own pixel size and ignore these: a different value is refused
      // rather than silently replaced.
      for (const auto& [c, own, k] : {std::tuple{c1, spec->pixel1, "pixel1"}, std::tuple{c2, spec->pixel2, "pixel2"}})
        if (c && std::abs(*c - own) > 1e-12 * own)
          throw Error(path, where(v),
                      std::string("Detector_config: ") + k + " " + std::to_string(*c) + " differs from " +
                          g.detector + "'s " + std::to_string(own) + " m (pyFAI would ignore it); remove it or "
                          "use Detector");
    } else {
      p1 = c1, p2 = c2;
    }
    read_max_shape(cfg, g, v, path);
    g.orientation = orientation_of(cfg, v, path);
    // PixelSize1/2 belong to version 1 (pyFAI ignores them in version 2): refused when they contradict.
    for (const auto& [k, p] : {std::pair{"pixelsize1", p1}, std::pair{"pixelsize2", p2}})
      if (has(k) && (!p || number(kv, k, path) != *p))
        throw Error(path, where(kv[k]),
                    std::string(k) + " is a version 1 key and differs from the Detector_config (pyFAI ignores "
                    "it in a version 2 file); remove it");
  }
  if (!p1 || !p2)
    throw Error(path, "",
                "no pixel size: expected Detector_config {\"pixel1\": ..., \"pixel2\": ...} (version 2), "
                "PixelSize1/PixelSize2 (version 1) or one of pyFAI's detector names (" +
                    known_detector_names() + ")");
  if (!(*p1 > 0) || !(*p2 > 0)) throw Error(path, "", "pixel sizes must be positive");
  g.pixel1 = *p1;
  g.pixel2 = *p2;
  return g;
}

integration::Geometry read(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw Error(p.string(), "", "cannot open the PONI file");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse(ss.str(), p.string());
}

std::string format(const integration::Geometry& g) {
  auto num = [](double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return std::string(buf);
  };
  std::string s = "# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis\n";
  // Version 2 as pyFAI 0.21 (Debian 12) reads it; 2.1 only when the orientation is not pyFAI's default.
  const bool v21 = g.orientation != 3 && g.orientation != 0;
  const std::string shape = g.detector_height ? "[" + std::to_string(g.detector_height) + ", " +
                                                    std::to_string(g.detector_width) + "]"
                                              : "null";
  s += v21 ? "poni_version: 2.1\n" : "poni_version: 2\n";
  s += "Detector: Detector\n";
  s += "Detector_config: {\"pixel1\": " + num(g.pixel1) + ", \"pixel2\": " + num(g.pixel2) +
       ", \"max_shape\": " + shape + (v21 ? ", \"orientation\": " + std::to_string(g.orientation) : "") + "}\n";
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
