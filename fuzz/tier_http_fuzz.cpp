// libFuzzer target: the tier server's HTTP request path. The bytes are one client
// connection (keep-alive requests one after another) served by tier::InProcessServer:
// httplib's request parsing, then the same pre-routing checks (one Content-Length, the body
// limit), routes and handlers as `prescale tier serve`, over in-memory tiers and an
// in-memory SQLite catalog. The store and the compiled routes are built once; after each
// input every object is deleted and burst mode is off again, so inputs do not interfere.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "tier/config.h"
#include "tier/mem_store.h"
#include "tier/server.h"
#include "tier/tiered_store.h"

namespace {

using namespace prescale::tier;

struct Fixture {
  TierConfig cfg;
  std::unique_ptr<TieredStore> store;
  std::unique_ptr<InProcessServer> server;

  Fixture() {
    cfg.max_body_bytes = 4096;  // small, so the fuzzer reaches the 413 paths
    cfg.store.catalog_path = ":memory:";
    std::array<std::unique_ptr<ObjectStore>, 3> tiers;
    tiers[kRedis] = std::make_unique<MemStore>("redis");
    tiers[kDir] = std::make_unique<MemStore>("nvme");
    tiers[kS3] = std::make_unique<MemStore>("s3");
    auto s = TieredStore::open(cfg.store, std::move(tiers));
    if (!s.ok()) std::abort();
    store = std::move(*s);
    server = std::make_unique<InProcessServer>(cfg, store.get());
  }

  void clear() {
    store->set_burst(false);
    auto keys = store->list("");
    if (!keys.ok()) std::abort();
    for (const auto& k : *keys) {
      if (!store->del(k).ok()) std::abort();
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture* f = new Fixture;  // never destroyed: libFuzzer exits without unwinding
  const std::string_view request(reinterpret_cast<const char*>(data), size);
  (void)f->server->serve(request);
  f->clear();
  return 0;
}
