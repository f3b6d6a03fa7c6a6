#include "kernels/integrate_engine.hpp"

#include <stdexcept>

namespace xrd::integration {

namespace {
[[noreturn]] void not_blockwise(const Engine& e) {
  throw std::logic_error("the " + e.name() + " engine does not integrate a frame in pieces");
}
}  // namespace

Accumulator Engine::make_accumulator() const { not_blockwise(*this); }
void Engine::accumulate(size_t, std::span<const int32_t>, Accumulator&) const { not_blockwise(*this); }
void Engine::finish(const Accumulator&, Pattern&) const { not_blockwise(*this); }

}  // namespace xrd::integration
