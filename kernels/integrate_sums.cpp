// Static sums and the last step of the sparse engines (see integrate_sums.hpp).
#include "kernels/integrate_sums.hpp"

#include <stdexcept>

namespace xrd::integration {

StaticSums::StaticSums(const Setup& setup) : radial_(setup.csr.radial), norm_(setup.norm), dark_(setup.dark) {
  const Csr& csr = setup.csr;
  if (norm_.size() != csr.pixels()) throw std::invalid_argument("setup.norm has the wrong size");
  const size_t nb = static_cast<size_t>(csr.bins);
  count_.assign(nb, 0.0);
  norm_sum_.assign(nb, 0.0);
  dark_sum_.assign(nb, 0.0);
  entries_.assign(nb, 0.0);
  for (size_t b = 0; b < nb; ++b) {
    double c = 0, n = 0, d = 0;
    for (int32_t k = csr.row_ptr[b]; k < csr.row_ptr[b + 1]; ++k) {
      const double w = csr.val[k];
      c += w;
      n += w * norm_[csr.col[k]];
      if (!dark_.empty()) d += w * dark_[csr.col[k]];
    }
    count_[b] = c, norm_sum_[b] = n, dark_sum_[b] = d;
    entries_[b] = csr.row_ptr[b + 1] - csr.row_ptr[b];
  }
}

void StaticSums::finish(std::span<const double> sv, std::span<const double> masked, Pattern& out) const {
  const size_t nb = count_.size();
  out.resize(nb);
  thread_local std::vector<double> variance;
  variance.resize(nb);
  for (size_t b = 0; b < nb; ++b) {
    const double* m = masked.empty() ? nullptr : &masked[4 * b];
    const bool empty = m && m[0] == entries_[b];  // every entry of the bin masked in this frame
    out.count[b] = empty ? 0.0 : count_[b] - (m ? m[1] : 0.0);
    out.sum_normalization[b] = empty ? 0.0 : norm_sum_[b] - (m ? m[2] : 0.0);
    out.sum_signal[b] = empty ? 0.0 : sv[2 * b] - (dark_sum_[b] - (m ? m[3] : 0.0));
    variance[b] = sv[2 * b + 1];
  }
  finish_pattern(radial_, variance, out);
}

}  // namespace xrd::integration
