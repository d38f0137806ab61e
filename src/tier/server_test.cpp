#include "tier/server.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "tier/dir_store.h"
#include "tier/mem_store.h"

namespace prescale::tier {
namespace {

// The API over in-memory tiers and an in-memory catalog, fed raw connections.
class InProcessServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.max_body_bytes = 16;
    cfg_.store.catalog_path = ":memory:";
    std::array<std::unique_ptr<ObjectStore>, 3> tiers;
    tiers[kRedis] = std::make_unique<MemStore>("redis");
    tiers[kDir] = std::make_unique<MemStore>("nvme");
    tiers[kS3] = std::make_unique<MemStore>("s3");
    auto s = TieredStore::open(cfg_.store, std::move(tiers));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    server_ = std::make_unique<InProcessServer>(cfg_, store_.get());
  }
  // "\n" in `lines` becomes CRLF.
  std::string serve(std::string lines) {
    std::string raw;
    for (char c : lines) raw += c == '\n' ? std::string("\r\n") : std::string(1, c);
    return server_->serve(raw);
  }

  TierConfig cfg_;
  std::unique_ptr<TieredStore> store_;
  std::unique_ptr<InProcessServer> server_;
};

TEST_F(InProcessServerTest, AnsweredRequestsMatchTheDocumentedStatusAndJsonErrors) {
  struct Case {
    const char* name;
    std::string request;
    std::string status_line;
    std::string body_part;  // "" = not checked
  };
  const Case cases[] = {
      {"a put is stored", "PUT /objects/a HTTP/1.1\nContent-Length: 2\n\nhi", "HTTP/1.1 204", ""},
      {"two Content-Length headers are refused",
       "PUT /objects/a HTTP/1.1\nContent-Length: 2\nContent-Length: 3\n\nhi", "HTTP/1.1 400",
       R"({"error":"expected one Content-Length header"})"},
      {"a body over the limit is refused before it is read",
       "PUT /objects/a HTTP/1.1\nContent-Length: 17\n\n", "HTTP/1.1 413", R"({"error":)"},
      {"a chunked body over the limit is refused while it is read",
       "PUT /objects/a HTTP/1.1\nTransfer-Encoding: chunked\n\n11\n" + std::string(17, 'x') +
           "\n0\n\n",
       "HTTP/1.1 413", R"({"error":)"},
      {"a negative Content-Length is refused", "PUT /objects/a HTTP/1.1\nContent-Length: -1\n\n",
       "HTTP/1.1 400", R"({"error":)"},
      {"a key over the escaped limit is a bad request",
       "PUT /objects/" + std::string(201, 'k') + " HTTP/1.1\nContent-Length: 1\n\nx",
       "HTTP/1.1 400", R"({"error":)"},
      {"a missing object is not found", "GET /objects/nothing HTTP/1.1\n\n", "HTTP/1.1 404",
       R"({"error":"no such object"})"},
      {"a known path with another method is not allowed", "PATCH /stats HTTP/1.1\n\n",
       "HTTP/1.1 405", R"({"error":"method PATCH not allowed here"})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string answer = serve(c.request);
    EXPECT_EQ(answer.rfind(c.status_line, 0), 0u) << answer;
    if (!c.body_part.empty()) {
      EXPECT_NE(answer.find(c.body_part), std::string::npos) << answer;
    }
  }
}

TEST_F(InProcessServerTest, KeepAliveRequestsOnOneConnectionAreServedInOrder) {
  const std::string answer = serve(
      "PUT /objects/k HTTP/1.1\nContent-Length: 5\n\nhello"
      "GET /objects/k HTTP/1.1\n\n"
      "GET /healthz HTTP/1.1\n\n");
  const auto put = answer.find("HTTP/1.1 204");
  const auto get = answer.find("HTTP/1.1 200", put);
  const auto body = answer.find("hello", get);
  const auto health = answer.find("ok\n", body);
  EXPECT_NE(put, std::string::npos) << answer;
  EXPECT_NE(get, std::string::npos) << answer;
  EXPECT_NE(body, std::string::npos) << answer;
  EXPECT_NE(health, std::string::npos) << answer;
}

// Bodies past http.body_buffer_kb, through the API into a real directory tier: spooled as
// they arrive, stored whole, and no spool file left behind, whether the body comes with a
// Content-Length or chunked.
TEST(InProcessServerSpool, ALargeBodyIsSpooledStoredWholeAndLeavesNoTempFile) {
  const std::string root = (std::filesystem::temp_directory_path() /
                            ("prescale-server-spool-" + std::to_string(::getpid())))
                               .string();
  std::filesystem::remove_all(root);
  TierConfig cfg;
  cfg.max_body_bytes = 1 << 20;
  cfg.body_buffer_bytes = 1024;
  cfg.store.catalog_path = ":memory:";
  std::array<std::unique_ptr<ObjectStore>, 3> tiers;
  tiers[kRedis] = std::make_unique<MemStore>("redis");
  tiers[kDir] = std::move(*DirStore::open(root, DirSync::kNone));
  tiers[kS3] = std::make_unique<MemStore>("s3");
  auto store = TieredStore::open(cfg.store, std::move(tiers));
  ASSERT_TRUE(store.ok()) << store.error().message;
  InProcessServer server(cfg, store->get());
  std::string data(200'000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  std::string chunked;
  for (size_t i = 0; i < data.size(); i += 30'000) {
    const std::string piece = data.substr(i, 30'000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    chunked += std::string(size) + "\r\n" + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  for (const std::string& put :
       {"PUT /objects/plain HTTP/1.1\r\nContent-Length: " + std::to_string(data.size()) +
            "\r\n\r\n" + data,
        "PUT /objects/chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked}) {
    const std::string answer = server.serve(put);
    EXPECT_EQ(answer.rfind("HTTP/1.1 204", 0), 0u) << answer.substr(0, 300);
  }
  for (const char* key : {"plain", "chunked"}) {
    auto got = (*store)->get(key);
    ASSERT_TRUE(got.ok() && *got) << key;
    EXPECT_EQ(**got, data) << key;
  }
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(root)) {
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << e.path();
    ++files;
  }
  EXPECT_EQ(files, 2u);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace prescale::tier
