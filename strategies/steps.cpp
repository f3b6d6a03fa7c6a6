#include "strategies/steps.hpp"

#include <algorithm>

#include <fcntl.h>
#include <unistd.h>

#include <tbb/task_arena.h>

#include "kernels/error.hpp"
#include "kernels/integrate_fast.hpp"
#include "kernels/ocl_engine.hpp"

namespace xrd::strat {

void load_frame(const RunContext& ctx, size_t frame, int thread, FrameBuffer& fb) {
  const auto& path = ctx.files[frame];
  fb.frame = frame;
  double t = ctx.now();
  cbf::read_file(path, fb.bytes);
  fb.view = cbf::parse(fb.bytes, path.string());
  ctx.add(Stage::read, t, frame, thread);
  const auto& csr = ctx.setup->csr;
  if (fb.view.binary.width != csr.width || fb.view.binary.height != csr.height)
    throw Error(path.string(), "",
                "frame is " + std::to_string(fb.view.binary.width) + " x " + std::to_string(fb.view.binary.height) +
                    " pixels, the dataset's geometry is for " + std::to_string(csr.width) + " x " +
                    std::to_string(csr.height));
  if (ctx.opt.verify_md5) {
    t = ctx.now();
    const auto st = cbf::check_md5(fb.view);
    ctx.add(Stage::md5, t, frame, thread);
    if (st != cbf::Md5Status::ok)
      throw Error(path.string(), "field Content-MD5",
                  st == cbf::Md5Status::absent ? "absent, but --verify-md5 was asked"
                                               : "MD5 of the payload does not match Content-MD5");
  }
}

void prefetch(const RunContext& ctx, size_t frame) {
  if (frame >= ctx.files.size()) return;
  const int fd = ::open(ctx.files[frame].c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
  ::close(fd);
}

void decode_frame(const RunContext& ctx, int thread, const FrameBuffer& fb, std::vector<int32_t>& image,
                  bool reference) {
  const double t = ctx.now();
  image.resize(fb.view.binary.width * fb.view.binary.height);
  cbf::decode(fb.view, image, reference);
  ctx.add(Stage::decode, t, fb.frame, thread);
}

void deliver(const RunContext& ctx, size_t frame, int thread, const integ::Pattern& p) {
  const double t = ctx.now();
  ctx.sink->pattern(frame, p);
  ctx.add(Stage::write, t, frame, thread);
}

void deliver_error(const RunContext& ctx, size_t frame, int thread, const std::string& reason) {
  const double t = ctx.now();
  ctx.sink->error(frame, ctx.files[frame].string(), reason);
  ctx.add(Stage::write, t, frame, thread);
}

struct HostIntegrator::Cpu {
  const integ::Setup* setup = nullptr;
  bool reference = false;
  std::unique_ptr<integ::FastIntegrator> fast;
  integ::FastIntegrator::Workspace ws;
  std::unique_ptr<tbb::task_arena> arena;  // when the threads are limited
};

HostIntegrator::HostIntegrator() = default;
HostIntegrator::~HostIntegrator() = default;

void HostIntegrator::prepare(const RunContext& ctx) {
  cpu_.reset();
  gpu_.reset();
  if (ctx.opt.integrator == Integrator::gpu) {
    gpu_ = std::make_unique<ocl::Engine>(require_device(ctx, "gpu integration"), *ctx.setup, max_file_bytes(ctx.files),
                                         1);
    return;
  }
  cpu_ = std::make_unique<Cpu>();
  cpu_->setup = ctx.setup;
  cpu_->reference = ctx.opt.reference;
  if (!cpu_->reference) cpu_->fast = std::make_unique<integ::FastIntegrator>(*ctx.setup, ctx.opt.threads);
  if (ctx.opt.threads > 0) cpu_->arena = std::make_unique<tbb::task_arena>(ctx.opt.threads);
}

void HostIntegrator::integrate(const RunContext& ctx, size_t frame, int thread, std::span<const int32_t> image,
                               integ::Pattern& out) {
  const double t = ctx.now();
  if (gpu_) {
    gpu_->integrate(image, out);
  } else if (cpu_->reference) {
    integ::integrate(*cpu_->setup, image, out);
  } else if (cpu_->arena) {
    cpu_->arena->execute([&] { cpu_->fast->integrate(image, out, cpu_->ws); });
  } else {
    cpu_->fast->integrate(image, out, cpu_->ws);
  }
  ctx.add(Stage::integrate, t, frame, thread);
}

size_t max_file_bytes(const std::vector<std::filesystem::path>& files) {
  size_t m = 0;
  std::error_code ec;
  for (auto& f : files) {
    const auto n = std::filesystem::file_size(f, ec);
    if (!ec) m = std::max<size_t>(m, n);
  }
  return m;
}

ocl::DeviceContext& require_device(const RunContext& ctx, const char* strategy) {
  if (!ctx.device) throw Error("", "", std::string(strategy) + " needs an OpenCL device (--device opencl...)");
  return *ctx.device;
}

std::string failure_reason(const std::exception& e) {
  if (auto* x = dynamic_cast<const Error*>(&e)) {
    // The sink gets the file separately: keep "where: what" only.
    return x->where().empty() ? x->reason() : x->where() + ": " + x->reason();
  }
  return e.what();
}

}  // namespace xrd::strat
