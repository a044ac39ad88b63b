// A deterministic random source for the sample generator. std::mt19937_64 is fully specified by the
// standard, and the reductions below are our own, so a seed gives the same chat on every build.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace chatvault::sample {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  uint64_t Next() { return engine_(); }

  // Uniform in [lo, hi]; the tiny modulo bias does not matter for sample data.
  uint64_t Uniform(uint64_t lo, uint64_t hi) { return lo + Next() % (hi - lo + 1); }

  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }

  bool Chance(double p) { return Unit() < p; }

  // Log-uniform in [lo, hi]: many small files and a long tail of big ones, as on a real phone.
  uint64_t LogUniform(uint64_t lo, uint64_t hi) {
    if (hi <= lo) return lo;
    const double a = std::log(static_cast<double>(lo));
    const double b = std::log(static_cast<double>(hi));
    const auto v = static_cast<uint64_t>(std::exp(a + (b - a) * Unit()));
    return v < lo ? lo : (v > hi ? hi : v);
  }

 private:
  std::mt19937_64 engine_;
};

// Mixes a seed with a stream number so that independent parts (texts, media, mutations) get
// unrelated sequences.
inline uint64_t MixSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace chatvault::sample
