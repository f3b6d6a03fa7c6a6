// Detector masks from CBF files (nonzero = masked).
#include "datasets/mask.hpp"

#include "datasets/cbf.hpp"
#include "kernels/error.hpp"

namespace xrd::mask {

std::vector<uint8_t> read(const std::filesystem::path& p, size_t width, size_t height) {
  const cbf::Image img = cbf::read_image(p);
  if ((width && img.width != width) || (height && img.height != height))
    throw Error(p.string(), "",
                "mask is " + std::to_string(img.width) + " x " + std::to_string(img.height) +
                    " pixels, the images " + std::to_string(width) + " x " + std::to_string(height));
  std::vector<uint8_t> m(img.pixels.size());
  for (size_t i = 0; i < m.size(); ++i) m[i] = img.pixels[i] != 0;
  return m;
}

size_t add_negative(std::span<const int32_t> image, std::vector<uint8_t>& mask) {
  if (mask.empty()) mask.assign(image.size(), 0);
  if (mask.size() != image.size())
    throw Error(
        "", "",
        "mask has " + std::to_string(mask.size()) + " pixels, the image " + std::to_string(image.size()));
  size_t added = 0;
  for (size_t i = 0; i < image.size(); ++i)
    if (image[i] < 0 && !mask[i]) mask[i] = 1, ++added;
  return added;
}

}  // namespace xrd::mask
