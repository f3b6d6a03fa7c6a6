// manifest.json: JSON form, atomic write, validating read, verification of the files it lists.
#include "datasets/manifest.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "datasets/cbf.hpp"
#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "kernels/md5.hpp"

namespace xrd::manifest {
namespace {

using nlohmann::json;

json entry_json(const FileEntry& e) {
  json j = e.extra.is_object() ? e.extra : json::object();
  j["name"] = e.name;
  j["size"] = e.size;
  j["md5"] = e.md5;
  return j;
}

template <class T>
T get(const json& j, const char* key, const std::string& path, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw Error(path, Error::at_field(where + key), "missing");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw Error(path, Error::at_field(where + key), std::string("wrong type: ") + it->type_name());
  }
}

FileEntry entry_from(const json& j, const std::string& path, const std::string& where) {
  if (!j.is_object()) throw Error(path, Error::at_field(where), "expected an object {name, size, md5}");
  FileEntry e;
  e.name = get<std::string>(j, "name", path, where + ".");
  e.size = get<uint64_t>(j, "size", path, where + ".");
  e.md5 = get<std::string>(j, "md5", path, where + ".");
  if (e.name.empty() || e.name.find('/') != std::string::npos || e.name == "." || e.name == "..")
    throw Error(path, Error::at_field(where + ".name"), "expected a plain file name, got '" + e.name + "'");
  e.extra = j;
  e.extra.erase("name");
  e.extra.erase("size");
  e.extra.erase("md5");
  return e;
}

}  // namespace

json to_json(const Manifest& m) {
  json files = json::array();
  for (auto& f : m.files) files.push_back(entry_json(f));
  json j{{"format", m.format},
              {"generator", {{"name", m.generator}, {"version", m.generator_version},
                             {"xrdbench_version", m.xrdbench_version}}},
              {"seed", m.seed},
              {"frames", m.frames},
              {"width", m.width},
              {"height", m.height},
              {"dtype", m.dtype},
              {"total_bytes", m.total_bytes},
              {"geometry", entry_json(m.geometry)},
              {"mask", entry_json(m.mask)},
              {"phases", m.phases},
              {"parameters", m.parameters},
              {"statistics", m.statistics},
              {"files", files}};
  if (m.layout != "cbf") j["layout"] = m.layout;  // CBF manifests stay as they were
  if (!m.scan.is_null()) j["scan"] = m.scan;
  return j;
}

json to_json(const Scan& s) {
  return json{{"layout", "rotation-major"},
              {"rotations", s.rotations},
              {"translations", s.translations},
              {"rotation_deg", s.rotation_deg},
              {"translation", s.translation},
              {"translation_units", s.translation_units}};
}

Scan scan_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) throw Error(path, Error::at_field("scan"), "expected an object");
  Scan s;
  s.rotations = get<size_t>(j, "rotations", path, "scan.");
  s.translations = get<size_t>(j, "translations", path, "scan.");
  if (s.rotations < 1 || s.translations < 1)
    throw Error(path, Error::at_field("scan"), "rotations and translations must be at least 1");
  auto values = [&](const char* key, size_t n, std::vector<double>& out) {
    const json v = j.value(key, json::array());
    if (!v.is_array() || (v.size() != 0 && v.size() != n))
      throw Error(path, Error::at_field(std::string("scan.") + key),
                  "expected an array of " + std::to_string(n) + " numbers");
    for (auto& x : v) {
      if (!x.is_number()) throw Error(path, Error::at_field(std::string("scan.") + key), "expected numbers");
      out.push_back(x.get<double>());
    }
  };
  values("rotation_deg", s.rotations, s.rotation_deg);
  values("translation", s.translations, s.translation);
  s.translation_units = j.value("translation_units", "");
  return s;
}

Manifest from_json(const json& j, const std::string& path) {
  if (!j.is_object()) throw Error(path, "", "expected a JSON object");
  Manifest m;
  m.format = get<std::string>(j, "format", path, "");
  if (m.format != kFormat)
    throw Error(path, Error::at_field("format"), "expected \"" + std::string(kFormat) + "\", got \"" + m.format + "\"");
  const json& g = j.contains("generator") ? j.at("generator") : json::object();
  if (!g.is_object()) throw Error(path, Error::at_field("generator"), "expected an object");
  m.generator = get<std::string>(g, "name", path, "generator.");
  m.generator_version = get<int>(g, "version", path, "generator.");
  m.xrdbench_version = g.value("xrdbench_version", "");
  m.seed = get<uint64_t>(j, "seed", path, "");
  m.frames = get<size_t>(j, "frames", path, "");
  m.width = get<size_t>(j, "width", path, "");
  m.height = get<size_t>(j, "height", path, "");
  m.dtype = j.value("dtype", "int32");
  m.layout = j.value("layout", "cbf");
  if (m.layout != "cbf" && m.layout != "nxmx")
    throw Error(path, Error::at_field("layout"), "expected \"cbf\" or \"nxmx\", got \"" + m.layout + "\"");
  m.total_bytes = get<uint64_t>(j, "total_bytes", path, "");
  m.geometry = entry_from(j.value("geometry", json()), path, "geometry");
  m.mask = entry_from(j.value("mask", json()), path, "mask");
  m.phases = j.value("phases", json::array());
  m.parameters = j.value("parameters", json::object());
  m.statistics = j.value("statistics", json::object());
  if (j.contains("scan") && !j.at("scan").is_null()) {
    (void)scan_from_json(j.at("scan"), path);  // checked here, so a bad scan is named when the manifest is read
    m.scan = j.at("scan");
  }
  const json files = j.value("files", json());
  if (!files.is_array()) throw Error(path, Error::at_field("files"), "expected an array");
  for (size_t i = 0; i < files.size(); ++i) m.files.push_back(entry_from(files[i], path, "files[" + std::to_string(i) + "]"));
  if (m.layout == "cbf" && m.files.size() != m.frames)
    throw Error(path, Error::at_field("files"),
                "lists " + std::to_string(m.files.size()) + " files, expected frames = " + std::to_string(m.frames));
  uint64_t total = 0;
  for (auto& f : m.files) total += f.size;
  if (total != m.total_bytes)
    throw Error(path, Error::at_field("total_bytes"),
                std::to_string(m.total_bytes) + " != the sum of the frame sizes " + std::to_string(total));
  return m;
}

// Indented, except that each file entry stays on one line (a 1202-frame manifest stays ~0.5 MB and diffable).
std::string to_text(const Manifest& m) {
  json j = to_json(m);
  json files = std::move(j["files"]);
  j.erase("files");
  std::string s = j.dump(1);
  s.pop_back();  // the closing brace
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  s += ",\n \"files\": [";
  for (size_t i = 0; i < files.size(); ++i) s += (i ? ",\n  " : "\n  ") + files[i].dump();
  s += files.empty() ? "]\n}\n" : "\n ]\n}\n";
  return s;
}

void write(const std::filesystem::path& p, const Manifest& m) {
  write_file_atomic(p, to_text(m));
}

Manifest read(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw Error(p.string(), "", "cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::parse_error& e) {
    throw Error(p.string(), Error::at_byte(e.byte), std::string("not valid JSON: ") + e.what());
  }
  return from_json(j, p.string());
}

std::string file_md5(const std::filesystem::path& p) {
  std::vector<uint8_t> buf;
  cbf::read_file(p, buf);
  return to_hex(md5(buf));
}

std::vector<std::string> verify(const std::filesystem::path& dir, const Manifest& m, bool check_md5) {
  std::vector<std::string> problems;
  std::vector<uint8_t> buf;
  auto check = [&](const FileEntry& e) {
    const auto p = dir / e.name;
    std::error_code ec;
    const auto size = std::filesystem::file_size(p, ec);
    if (ec) {
      problems.push_back(e.name + ": " + ec.message());
      return;
    }
    if (size != e.size) {
      problems.push_back(e.name + ": size " + std::to_string(size) + " != " + std::to_string(e.size));
      return;
    }
    if (!check_md5) return;
    try {
      cbf::read_file(p, buf);
    } catch (const std::exception& ex) {
      problems.push_back(e.name + ": " + ex.what());
      return;
    }
    const std::string got = to_hex(md5(buf));
    if (got != e.md5) problems.push_back(e.name + ": MD5 " + got + " != " + e.md5);
  };
  for (auto& f : m.files) check(f);
  check(m.geometry);
  check(m.mask);
  return problems;
}

}  // namespace xrd::manifest
