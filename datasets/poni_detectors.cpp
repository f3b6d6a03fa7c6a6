// The named detectors, with pyFAI's sizes (pyFAI/detectors/_dectris.py and _psi.py: pixel size of the class,
// MAX_SHAPE) and its name matching (Detector.factory: lower-case, ' ' as '_'; aliases also without spaces).
#include "datasets/poni_detectors.hpp"

#include <array>
#include <cctype>

namespace xrd::poni {

namespace {

struct Entry {
  DetectorSpec spec;
  const char* alias;  // pyFAI's alias ("Pilatus 2M")
};

constexpr std::array<Entry, 12> kDetectors{{
    {{"Pilatus1M", 172e-6, 172e-6, 1043, 981}, "Pilatus 1M"},
    {{"Pilatus2M", 172e-6, 172e-6, 1679, 1475}, "Pilatus 2M"},
    {{"Pilatus6M", 172e-6, 172e-6, 2527, 2463}, "Pilatus 6M"},
    {{"Pilatus4_2M", 150e-6, 150e-6, 1630, 1553}, "Pilatus4 2M"},
    {{"Pilatus4_4M", 150e-6, 150e-6, 2180, 2073}, "Pilatus4 4M"},
    {{"Eiger4M", 75e-6, 75e-6, 2167, 2070}, "Eiger 4M"},
    {{"Eiger9M", 75e-6, 75e-6, 3269, 3110}, "Eiger 9M"},
    {{"Eiger16M", 75e-6, 75e-6, 4371, 4150}, "Eiger 16M"},
    {{"Eiger2_4M", 75e-6, 75e-6, 2162, 2068}, "Eiger2 4M"},
    {{"Eiger2_9M", 75e-6, 75e-6, 3262, 3108}, "Eiger2 9M"},
    {{"Eiger2_16M", 75e-6, 75e-6, 4362, 4148}, "Eiger2 16M"},
    {{"Jungfrau4M", 75e-6, 75e-6, 2164, 2068}, "Jungfrau 4M"},
}};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string replace_spaces(std::string s, std::string_view with) {
  std::string out;
  for (char c : s) {
    if (c == ' ')
      out += with;
    else
      out += c;
  }
  return out;
}

}  // namespace

std::optional<DetectorSpec> find_detector(std::string_view name) {
  const std::string n = lower(name);
  const std::string candidates[] = {n, replace_spaces(n, "_")};
  for (const Entry& e : kDetectors) {
    const std::string alias = lower(e.alias);
    const std::string keys[] = {lower(e.spec.name), replace_spaces(alias, "_"), replace_spaces(alias, "")};
    for (const std::string& c : candidates)
      for (const std::string& k : keys)
        if (c == k) return e.spec;
  }
  return std::nullopt;
}

std::string known_detector_names() {
  std::string s;
  for (const Entry& e : kDetectors) s += (s.empty() ? "" : ", ") + std::string(e.spec.name);
  return s;
}

}  // namespace xrd::poni
