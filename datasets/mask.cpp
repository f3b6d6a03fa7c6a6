// Detector masks from any image file image_io reads (nonzero = masked).
#include "datasets/mask.hpp"

#include <cmath>

#include "datasets/image_io.hpp"
#include "base/error.hpp"

namespace xrd::mask {

std::vector<uint8_t> read(const std::string& spec, size_t width, size_t height) {
  const image_io::Image img = image_io::read(spec);
  if ((width && img.width != width) || (height && img.height != height))
    throw Error(spec, "",
                "mask is " + std::to_string(img.width) + " x " + std::to_string(img.height) + " pixels (" +
                    img.format + "), the images " + std::to_string(width) + " x " + std::to_string(height));
  std::vector<uint8_t> m(img.pixels.size());
  // pyFAI's convention: nonzero is masked; a NaN is not zero, so it masks too.
  for (size_t i = 0; i < m.size(); ++i) m[i] = img.pixels[i] != 0 || std::isnan(img.pixels[i]);
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
