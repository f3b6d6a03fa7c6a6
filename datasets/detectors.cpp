// The detector preset table (datasets/detectors.hpp). Layouts follow pyFAI's detector definitions
// (pyFAI/detectors/_dectris.py and _psi.py: MAX_SHAPE, MODULE_SIZE, MODULE_GAP), which follow the makers' data
// sheets; frame rates and bit depths are the makers' nominal full-frame figures (docs/detectors.md).
#include "datasets/detectors.hpp"

#include <algorithm>
#include <cctype>

#include "base/error.hpp"

namespace xrd::detectors {

const std::vector<Detector>& all() {
  // name, label, maker, width, height, pixel, module w, h, gap x, y, module cols, rows, bits, Hz, source
  static const std::vector<Detector> table = {
      {"pilatus3-2m", "PILATUS3 2M", "DECTRIS", 1475, 1679, 172e-6, 487, 195, 7, 17, 3, 8, 20, 250,
       "DECTRIS PILATUS3 X/S 2M data sheet; Kieffer et al. 2018 (250 frames/s)"},
      {"pilatus4-2m", "PILATUS4 2M", "DECTRIS", 1553, 1630, 150e-6, 513, 255, 7, 20, 3, 6, 20, 500,
       "DECTRIS PILATUS4 2M data sheet; layout as pyFAI Pilatus4_2M"},
      {"pilatus4-4m", "PILATUS4 4M", "DECTRIS", 2073, 2180, 150e-6, 513, 255, 7, 20, 4, 8, 20, 500,
       "DECTRIS PILATUS4 4M data sheet; layout as pyFAI Pilatus4_4M"},
      {"eiger2-4m", "EIGER2 X 4M", "DECTRIS", 2068, 2162, 75e-6, 1028, 512, 12, 38, 2, 4, 16, 560,
       "DECTRIS EIGER2 X 4M data sheet (16-bit readout); layout as pyFAI Eiger2_4M"},
      {"eiger2-9m", "EIGER2 X 9M", "DECTRIS", 3108, 3262, 75e-6, 1028, 512, 12, 38, 3, 6, 16, 230,
       "DECTRIS EIGER2 X 9M data sheet (16-bit readout); layout as pyFAI Eiger2_9M"},
      {"eiger2-16m", "EIGER2 X 16M", "DECTRIS", 4148, 4362, 75e-6, 1028, 512, 12, 38, 4, 8, 16, 133,
       "DECTRIS EIGER2 X 16M data sheet (16-bit readout); layout as pyFAI Eiger2_16M"},
      {"jungfrau-4m", "JUNGFRAU 4M", "PSI", 2068, 2164, 75e-6, 1030, 514, 8, 36, 2, 4, 16, 2000,
       "PSI JUNGFRAU (Mozzanica et al. 2018; 2 kHz at SwissFEL/SLS); layout as pyFAI Jungfrau4M"},
  };
  return table;
}

static std::string normalize(const std::string& s) {
  std::string o;
  for (char c : s) o += (c == '_' || c == ' ') ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

std::string known_names() {
  std::string o;
  for (auto& d : all()) o += (o.empty() ? "" : ", ") + d.name;
  return o;
}

const Detector& find(const std::string& name) {
  const std::string n = normalize(name);
  for (auto& d : all())
    if (d.name == n) return d;
  throw Error("", "--detector", "unknown detector '" + name + "' (known: " + known_names() + ")");
}

}  // namespace xrd::detectors
