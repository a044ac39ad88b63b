// Container throughput against the raw AES-256-GCM primitive it is built on, measured in the same
// run: the ratio container/raw is the overhead of the format (segmenting, header, sinks).
// Also the cost of zstd levels on chat-like text.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>

#include "chatvault/crypto/aes_gcm.h"
#include "chatvault/format/container.h"

namespace chatvault::format {
namespace {

constexpr size_t kDataSize = 16 << 20;
constexpr size_t kWriteSize = 1 << 20;  // what a backup engine reading files would pass

const key::BackupKey& Key() {
  static const key::BackupKey key = key::BackupKey::Generate();
  return key;
}

const Bytes& Incompressible() {
  static const Bytes data = [] {
    std::mt19937_64 rng(1);
    Bytes b(kDataSize);
    for (size_t i = 0; i + 8 <= b.size(); i += 8) {
      const uint64_t v = rng();
      std::memcpy(&b[i], &v, 8);
    }
    return b;
  }();
  return data;
}

const Bytes& ChatText() {
  static const Bytes data = [] {
    static const char* kWords[] = {"hey ",   "are ",  "you ", "coming ", "tonight ", "?\n",
                                   "yes ",   "see ",  "you ", "at ",     "eight ",   "ok\n",
                                   "photo ", "sent ", "lol ", "haha ",   "what ",    "time\n"};
    std::mt19937 rng(2);
    Bytes b;
    b.reserve(kDataSize);
    while (b.size() < kDataSize) {
      const std::string w = kWords[rng() % std::size(kWords)];
      b.insert(b.end(), w.begin(), w.end());
      if (rng() % 7 == 0) {
        const std::string n = std::to_string(rng() % 100000) + " ";
        b.insert(b.end(), n.begin(), n.end());
      }
    }
    b.resize(kDataSize);
    return b;
  }();
  return data;
}

// Counts bytes and drops them, so the benchmark measures the format, not memory traffic.
class CountingSink : public Sink {
 public:
  Status Write(ByteView data) override {
    bytes += data.size();
    return OkStatus();
  }
  size_t bytes = 0;
};

void RawAesGcm(benchmark::State& state) {
  auto aead = crypto::AesGcm256::Create(Key().secret().view().first(32));
  const Bytes& in = Incompressible();
  Bytes out(65536 + 16);
  uint8_t nonce[12] = {0};
  for (auto _ : state) {
    for (size_t off = 0; off < in.size(); off += 65536) {
      nonce[11]++;
      aead->Seal(ByteView(nonce, 12), {}, ByteView(in).subspan(off, 65536), out.data(),
                 out.data() + 65536);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * in.size());
}
BENCHMARK(RawAesGcm)->Unit(benchmark::kMillisecond);

void Encrypt(benchmark::State& state, const Bytes& data, Compression c, int level) {
  EncryptOptions o;
  o.compression = c;
  o.zstd_level = level;
  size_t out_bytes = 0;
  for (auto _ : state) {
    CountingSink sink;
    auto enc = Encryptor::Create(Key(), o, &sink);
    for (size_t off = 0; off < data.size(); off += kWriteSize) {
      if (!(*enc)->Write(ByteView(data).subspan(off, kWriteSize)).ok())
        state.SkipWithError("write");
    }
    if (!(*enc)->Finish().ok()) state.SkipWithError("finish");
    out_bytes = sink.bytes;
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * data.size());
  state.counters["ratio"] = double(out_bytes) / double(data.size());
}

void Decrypt(benchmark::State& state, const Bytes& data, Compression c, int level) {
  EncryptOptions o;
  o.compression = c;
  o.zstd_level = level;
  const Bytes container = *EncryptBytes(Key(), o, data);
  for (auto _ : state) {
    CountingSink sink;
    auto dec = Decryptor::Create(Key(), "chunk", &sink);
    for (size_t off = 0; off < container.size(); off += kWriteSize) {
      const size_t n = std::min(kWriteSize, container.size() - off);
      if (!(*dec)->Write(ByteView(container).subspan(off, n)).ok()) state.SkipWithError("write");
    }
    if (!(*dec)->Finish().ok()) state.SkipWithError("finish");
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * data.size());
}

void EncryptIncompressible(benchmark::State& s) {
  Encrypt(s, Incompressible(), Compression::kNone, 3);
}
void EncryptIncompressibleAuto(benchmark::State& s) {
  Encrypt(s, Incompressible(), Compression::kAuto, 3);
}
void DecryptIncompressible(benchmark::State& s) {
  Decrypt(s, Incompressible(), Compression::kNone, 3);
}
void EncryptText(benchmark::State& s) {
  Encrypt(s, ChatText(), Compression::kZstd, int(s.range(0)));
}
void DecryptText(benchmark::State& s) {
  Decrypt(s, ChatText(), Compression::kZstd, int(s.range(0)));
}
void EncryptTextUncompressed(benchmark::State& s) { Encrypt(s, ChatText(), Compression::kNone, 3); }

BENCHMARK(EncryptIncompressible)->Unit(benchmark::kMillisecond);
BENCHMARK(EncryptIncompressibleAuto)->Unit(benchmark::kMillisecond);
BENCHMARK(DecryptIncompressible)->Unit(benchmark::kMillisecond);
BENCHMARK(EncryptTextUncompressed)->Unit(benchmark::kMillisecond);
BENCHMARK(EncryptText)->Arg(1)->Arg(3)->Arg(9)->Unit(benchmark::kMillisecond);
BENCHMARK(DecryptText)->Arg(1)->Arg(9)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace chatvault::format

BENCHMARK_MAIN();
